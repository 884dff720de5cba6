import type { SecretFinding, TextFile } from './types.js';

/**
 * The entropy rule: a long run of token characters that looks random is probably a credential
 * (an API key, a signing secret) that the named rules of secretlint do not know.
 *
 * Thresholds, chosen by scanning 10,700 files (1.17 million lines) of ordinary JavaScript,
 * TypeScript, JSON and Markdown, and random keys (see entropy.spec.ts):
 * - token: 32+ characters of [A-Za-z0-9+/_-] (plus base64 padding); shorter runs are names and ids.
 * - base64-like tokens: Shannon entropy ≥ 4.3 bits per character. At 4.5, a third of random
 *   32-character alphanumeric keys scored below the bar (they average about 4.5); at 4.3, 4 % of
 *   those and 0.3 % of 40-character ones do, and 260 lines of the corpus were flagged, nearly all
 *   of them random example tokens in SDK documentation.
 * - hex tokens (40+ hex digits): ≥ 3.3 bits per character (the maximum is 4; 40 random hex digits
 *   average 3.7, and at 3.5 one random 160-bit key in 20 scored below; at 3.3, one in 600).
 *   Shorter hex (an MD5, a UUID without dashes) is left alone; a git commit id (40 hex digits)
 *   is flagged, except in npm's "gitHead" lines.
 * - skipped: tokens over 256 characters (encoded files such as inline images, not credentials), with no repeated character (an alphabet such as
 *   "ABC…xyz0123456789+/", which scores 6.0), and identifiers: tokens that split at `-`, `_`, `/`,
 *   case changes and digits into words (`Customer`, `to`), acronyms, numbers and lone letters,
 *   words making 70 % or more of them (so `src/components/task-list/index` is a name too) (`V1CustomerSubscriptionDefaultPaymentMethodChangedEvent`
 *   scores 4.51). A random string almost always leaves a fragment (`3z`, `xQ`) that is none of these.
 * - skipped lines: Subresource Integrity hashes (`sha512-…`), lock files' "integrity" and
 *   "resolved" lines, npm's "gitHead", and `sourceMappingURL` comments.
 */
export const ENTROPY_MIN_LENGTH = 32;
export const ENTROPY_BASE64_THRESHOLD = 4.3;
export const ENTROPY_HEX_MIN_LENGTH = 40;
export const ENTROPY_HEX_THRESHOLD = 3.3;
const ENTROPY_MAX_LENGTH = 256;
const IDENTIFIER_WORD_SHARE = 0.7;

const TOKEN_PATTERN = new RegExp(`[A-Za-z0-9+/_-]{${ENTROPY_MIN_LENGTH},}={0,2}`, 'g');
const HEX_PATTERN = /^[0-9a-fA-F]+$/;
const LOCK_FILES = /(^|\/)(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml)$/;
const SKIPPED_LINE = /(sha(1|256|384|512)-[A-Za-z0-9+/=]{20,})|sourceMappingURL=|"gitHead"\s*:/;
const WORD_BOUNDARY = /(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])/;
const WORD = /^[A-Z]?[a-z]{2,}$/;
const ACRONYM_OR_NUMBER = /^([A-Z]{1,8}|[A-Z][a-z]|\d+)$/;
/** Between separators, a lone letter or a number counts as a word (`requires_a_type`, `error_1403`). */
const LONE_WORD = /^([A-Za-z]|\d+)$/;
const LOCK_FILE_LINE = /"?(integrity|resolved)"?\s*[:=]/;

/** Shannon entropy of the string, in bits per character. */
export function shannonEntropy(value: string): number {
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Whether the token reads as a name made of words (camelCase, kebab-case, snake_case). */
function isIdentifier(token: string): boolean {
  let wordLength = 0;
  for (const chunk of token.split(/[-_/+=]/)) {
    if (LONE_WORD.test(chunk)) wordLength += chunk.length;
    else {
      for (const part of chunk.split(WORD_BOUNDARY)) {
        if (WORD.test(part)) wordLength += part.length;
        else if (part && !ACRONYM_OR_NUMBER.test(part)) return false;
      }
    }
  }
  return wordLength >= token.length * IDENTIFIER_WORD_SHARE;
}

/** Why the token looks like a secret, or undefined when it does not. */
function highEntropyLabel(token: string): string | undefined {
  if (token.length > ENTROPY_MAX_LENGTH) return undefined;
  const entropy = shannonEntropy(token);
  if (HEX_PATTERN.test(token)) {
    if (token.length < ENTROPY_HEX_MIN_LENGTH || entropy < ENTROPY_HEX_THRESHOLD) return undefined;
    return `high-entropy hex string (${token.length} characters, ${entropy.toFixed(2)} bits per character)`;
  }
  // No repeated character: an alphabet ("ABC…xyz0123456789+/" of a base64 codec), not a random draw.
  if (entropy < ENTROPY_BASE64_THRESHOLD || isIdentifier(token) || new Set(token).size === token.length) {
    return undefined;
  }
  return `high-entropy string (${token.length} characters, ${entropy.toFixed(2)} bits per character)`;
}

/** Every line of the file with a high-entropy token (one finding per line). */
export function scanEntropy(file: TextFile): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const lockFile = LOCK_FILES.test(file.name);
  const lines = file.text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index];
    if (line.length < ENTROPY_MIN_LENGTH || SKIPPED_LINE.test(line)) continue;
    if (lockFile && LOCK_FILE_LINE.test(line)) continue;
    for (const [token] of line.matchAll(TOKEN_PATTERN)) {
      const label = highEntropyLabel(token);
      if (label) {
        findings.push({ rule: 'entropy', label, line: index + 1 });
        break;
      }
    }
  }
  return findings;
}
