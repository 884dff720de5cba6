import type { CheckResult } from './types.js';

/** Names this short are one typo apart from many others; they get the tighter bound. */
const SHORT_NAME = 4;
const MAX_LISTED = 5;

/** Lowercase, letters and digits only: "Todo-List!" and "todolist" are the same name to a person. */
export function normalizeName(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * Levenshtein distance of a and b when it is at most `max`, else max + 1. Only the band of width
 * 2·max+1 around the diagonal is computed, so a long list of existing plugins stays cheap.
 */
export function boundedLevenshtein(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const over = max + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => (j <= max ? j : over));
  for (let i = 1; i <= a.length; i++) {
    const current = new Array<number>(b.length + 1).fill(over);
    if (i <= max) current[0] = i;
    const from = Math.max(1, i - max);
    const to = Math.min(b.length, i + max);
    let best = current[0];
    for (let j = from; j <= to; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(substitution, previous[j] + 1, current[j - 1] + 1, over);
      best = Math.min(best, current[j]);
    }
    if (best > max) return over;
    previous = current;
  }
  return previous[b.length];
}

function isClose(candidate: string, existing: string): boolean {
  if (!candidate || !existing) return false;
  const max = Math.min(candidate.length, existing.length) <= SHORT_NAME ? 1 : 2;
  return boundedLevenshtein(candidate, existing, max) <= max;
}

/**
 * Holds for review a plugin whose id or name is within a small edit distance of (or, normalised,
 * equal to) an id or name of another author's plugin. The very same id is not this check's
 * business: the caller refuses it (409) before.
 */
export function checkSquatting(
  candidate: { id: string; name: string },
  existing: Array<{ id: string; name: string }>,
): CheckResult[] {
  const mine = [normalizeName(candidate.id), normalizeName(candidate.name)];
  const near = existing.filter((other) => {
    if (other.id === candidate.id) return false;
    const theirs = [normalizeName(other.id), normalizeName(other.name)];
    return mine.some((name) => theirs.some((their) => isClose(name, their)));
  });
  if (near.length === 0) return [];
  const ids = near.slice(0, MAX_LISTED).map((other) => `"${other.id}"`);
  const more = near.length > MAX_LISTED ? ` and ${near.length - MAX_LISTED} more` : '';
  return [
    {
      check: 'squatting',
      status: 'held',
      code: 'name_squatting',
      message: `the id or name is close to that of another author's plugin ${ids.join(', ')}${more}; held for review`,
    },
  ];
}
