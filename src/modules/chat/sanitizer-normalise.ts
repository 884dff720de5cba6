import { createRequire } from 'node:module';

/**
 * The view of a text the sanitizer matches on, and the way back from it to the
 * original. A model that wants to repeat its prompt past a matcher hides it in
 * ways a reader does not see: zero-width characters, soft hyphens and bidi
 * controls between letters, fullwidth or mathematical letters, look-alike
 * letters from another script (Cyrillic "а" for Latin "a"), diacritics or
 * combining overlays, letters spaced out ("i g n o r e"). The view undoes all
 * of them, character by character:
 *
 * 1. Default-ignorable code points (zero-width space and joiners, soft hyphen,
 *    word joiner, BOM, variation selectors, tag characters…), bidi controls and
 *    other format characters (Cf) are dropped: they are not separators, so
 *    "ig\u200Bnore" reads "ignore".
 * 2. Unicode NFKC (fullwidth, mathematical, ligature and circled forms become
 *    plain letters and digits), lowercase, then NFD with the nonspacing and
 *    enclosing marks dropped ("é", "e\u0301" and "e\u0338" read "e").
 * 3. Each letter or digit goes to its skeleton per Unicode TR39 (confusables.txt,
 *    the data the `unhomoglyph` package ships): Cyrillic "а", Greek "α" and
 *    Latin "a" are one letter; "0" reads "o", "1" reads "l", "m" reads "rn".
 *    Only letters and digits mapped to letters and digits are taken: the view
 *    splits into words where the original does (a dash mapped to a letter would
 *    glue two words; a letter mapped to a colon would split one).
 *
 * Both sides of a match, the protected texts and the output, go through the
 * same view, so the mapping only has to be consistent, not readable. Each
 * character is normalised on its own (cached), so a stream chunk normalises
 * exactly as the same characters inside the whole text, and every code unit of
 * the view knows the original code point it came from: what matches in the
 * view is redacted in the original, ignorable characters inside it included.
 *
 * Spaced-out letters are collapsed on the words of the view (`viewWords`).
 */

/** TR39 confusables.txt (Unicode 13): source code point -> prototype. */
const CONFUSABLES = createRequire(import.meta.url)('unhomoglyph/data.json') as Readonly<
  Record<string, string>
>;

const IGNORED = /^[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}\p{Cf}]$/u;
const DROPPED_MARKS = /[\p{Mn}\p{Me}]/gu;
const WORD_CHAR = /^[\p{L}\p{N}\p{M}]$/u;
const WORD_CHARS = /^[\p{L}\p{N}\p{M}]+$/u;
/** Letters, digits and spacing marks: a word of the view (nonspacing marks are gone by then). */
export const WORD = /[\p{L}\p{N}\p{M}]+/gu;

function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase().normalize('NFD').replace(DROPPED_MARKS, '');
}

function skeleton(text: string): string {
  let out = '';
  for (const ch of text) {
    const proto = CONFUSABLES[ch];
    out += proto !== undefined && WORD_CHAR.test(ch) && WORD_CHARS.test(proto) ? proto : ch;
  }
  return out;
}

/** The view of one code point ('' when it is dropped). */
function computeChar(ch: string): string {
  if (IGNORED.test(ch)) return '';
  let out = fold(ch);
  // A prototype may itself fold or map further (TR39's "0" -> "O" -> "o"): repeat until it stands.
  for (let round = 0; round < 4; round++) {
    const next = fold(skeleton(out));
    if (next === out) break;
    out = next;
  }
  return [...out].filter((c) => !IGNORED.test(c)).join('');
}

const ASCII: string[] = Array.from({ length: 128 }, (_, c) => computeChar(String.fromCharCode(c)));
/** ASCII characters the view keeps as they are (most of them: the loop's fast path). */
const ASCII_SAME: boolean[] = ASCII.map((v, c) => v === String.fromCharCode(c));
const cache = new Map<number, string>();
/** Enough for every script a conversation uses; past it (all of Unicode thrown at us) nothing more is kept. */
const CACHE_LIMIT = 65_536;

export function normaliseChar(cp: number): string {
  if (cp < 128) return ASCII[cp];
  let out = cache.get(cp);
  if (out === undefined) {
    out = computeChar(String.fromCodePoint(cp));
    if (cache.size < CACHE_LIMIT) cache.set(cp, out);
  }
  return out;
}

/**
 * Where a redaction starting at `pos` starts in the original: before the
 * invisible characters just in front of it (a bidi embedding opened for the
 * passage goes with it). Marks stay with the character before them.
 */
export function startBefore(text: string, pos: number, limit = 0): number {
  while (pos > limit) {
    const low = text.charCodeAt(pos - 1);
    const width = pos - 2 >= limit && low >= 0xdc00 && low <= 0xdfff ? 2 : 1;
    if (!IGNORED.test(text.slice(pos - width, pos))) break;
    pos -= width;
  }
  return pos;
}

/** Where a redaction ending at `pos` ends in the original: after the marks and invisible characters that follow it. */
export function endAfter(text: string, pos: number, limit = text.length): number {
  while (pos < limit) {
    const cp = text.codePointAt(pos)!;
    const width = cp > 0xffff ? 2 : 1;
    if (pos + width > limit || normaliseChar(cp) !== '') break;
    pos += width;
  }
  return pos;
}

/** A text's view: `text`, and for each of its code units the original code point `[from, to)` it came from. */
export interface MatchView {
  text: string;
  from: Int32Array;
  to: Int32Array;
}

/** The view of `text` up to `end` (a stream holds back a trailing high surrogate). */
export function normalise(text: string, end = text.length): MatchView {
  // Room for the common case (the view as long as the text); grown when a character expands.
  let from: Int32Array = new Int32Array(end + 8);
  let to: Int32Array = new Int32Array(end + 8);
  let out = '';
  let n = 0;
  let plainFrom = 0;
  for (let i = 0; i < end;) {
    const code = text.charCodeAt(i);
    if (code < 128 && ASCII_SAME[code]) {
      from[n] = i;
      to[n] = i + 1;
      n++;
      i++;
      continue;
    }
    // A run of characters kept as they are is copied at once.
    out += text.slice(plainFrom, i);
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const mapped = normaliseChar(cp);
    // Room for this character's view and one unit for each character still to come (the fast path does not check).
    const needed = n + mapped.length + (end - i - width);
    if (needed > from.length) {
      const size = Math.max(from.length * 2, needed + 8);
      from = grow(from, size);
      to = grow(to, size);
    }
    for (let k = 0; k < mapped.length; k++) {
      from[n] = i;
      to[n] = i + width;
      n++;
    }
    out += mapped;
    i += width;
    plainFrom = i;
  }
  out += text.slice(plainFrom, end);
  return { text: out, from: from.subarray(0, n), to: to.subarray(0, n) };
}

function grow(a: Int32Array, size: number): Int32Array {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/** The first view unit that comes from `pos` of the original or after it. */
export function viewIndexAt(view: MatchView, pos: number): number {
  let lo = 0;
  let hi = view.from.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (view.from[mid] < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One word of the view: its original span and its normalised text. `runStart`:
 * the original start of the spaced-out run it was collapsed from, if any.
 */
export interface ViewWord {
  start: number;
  end: number;
  norm: string;
  runStart?: number;
  /** A stream's last word may still grow (a letter or a spaced-out letter still to come). */
  open?: boolean;
}

/** Most characters between two spaced-out letters ("i g", "i - g", "i / g"); more ends the run. */
export const MAX_LETTER_GAP = 3;
/** Fewest single letters in a row that read as one spaced-out word ("a I" stays two words). */
const MIN_RUN = 3;

interface RawWord {
  vs: number;
  ve: number;
}

/** A word of one original character ("m" is one though its view is "rn"). */
const isSingle = (view: MatchView, w: RawWord): boolean => view.from[w.vs] === view.from[w.ve - 1];

/**
 * The words of a view. A run of at least three single letters or digits, each
 * at most MAX_LETTER_GAP characters from the next ("i g n o r e", "i-g-n-o-r-e",
 * "i.g.n.o.r.e"), is collapsed: where the run uses another gap than its usual
 * one ("i g n o r e  a l l", "i-g-n-o-r-e a-l-l") a word ends; a piece that is
 * not a known word is split into known words when it can be ("ignoreall" ->
 * "ignore all"), so letters spaced out evenly still meet the n-grams they
 * repeat. `vocabulary`: the words of the protected texts.
 *
 * Not `final` (a stream): the last word, or a run that the next chunk could
 * extend, is `open`. A run longer than `longRun` characters is held no longer
 * whole: only its last word stays open, the words before it are matched (a
 * spaced-out prompt longer than a stream's hold bound is caught as it goes).
 */
export function viewWords(
  view: MatchView,
  vocabulary: Vocabulary,
  final: boolean,
  longRun = Infinity,
): ViewWord[] {
  const raw: RawWord[] = [];
  for (const m of view.text.matchAll(WORD)) raw.push({ vs: m.index, ve: m.index + m[0].length });
  const out: ViewWord[] = [];
  for (let i = 0; i < raw.length;) {
    const j = runEnd(view, raw, i);
    // Single letters at the end of a stream may be the start of a run still arriving.
    const mayGrow =
      !final &&
      j === raw.length - 1 &&
      view.text.length - raw[j].ve <= (isSingle(view, raw[j]) ? MAX_LETTER_GAP : 0);
    out.push(...groupWords(view, raw.slice(i, j + 1), vocabulary, mayGrow, longRun));
    i = j + 1;
  }
  return out;
}

/**
 * Where the group of words starting at `i` ends: the last of a row of single
 * letters, each at most MAX_LETTER_GAP characters from the next; `i` itself
 * when it is not a single letter.
 */
function runEnd(view: MatchView, raw: RawWord[], i: number): number {
  if (!isSingle(view, raw[i])) return i;
  let j = i;
  while (j + 1 < raw.length && isSingle(view, raw[j + 1]) && raw[j + 1].vs - raw[j].ve <= MAX_LETTER_GAP) j++;
  return j;
}

/**
 * The words of a group `runEnd` found: collapsed when it is a run (MIN_RUN single
 * letters or more), else each as it stands; `open` when the group may still grow.
 */
function groupWords(
  view: MatchView,
  group: RawWord[],
  vocabulary: Vocabulary,
  mayGrow: boolean,
  longRun: number,
): ViewWord[] {
  if (group.length < MIN_RUN) {
    return group.map((raw) => {
      const w: ViewWord = {
        start: view.from[raw.vs],
        end: view.to[raw.ve - 1],
        norm: view.text.slice(raw.vs, raw.ve),
      };
      if (mayGrow) w.open = true;
      return w;
    });
  }
  const run = collapseRun(view, group, vocabulary);
  if (mayGrow && run[run.length - 1].end - run[0].start > longRun) {
    // Held from its own start, not the run's.
    run[run.length - 1] = { ...run[run.length - 1], open: true, runStart: undefined };
  } else if (mayGrow) for (const w of run) w.open = true;
  return run;
}

function collapseRun(view: MatchView, run: RawWord[], vocabulary: Vocabulary): ViewWord[] {
  const runStart = view.from[run[0].vs];
  const gaps: string[] = [];
  const counts = new Map<string, number>();
  for (let k = 1; k < run.length; k++) {
    const gap = view.text.slice(run[k - 1].ve, run[k].vs);
    gaps.push(gap);
    counts.set(gap, (counts.get(gap) ?? 0) + 1);
  }
  // The gap between letters is the most frequent one (the shorter on a tie); any other ends a word.
  let letterGap = gaps[0];
  for (const [gap, count] of counts) {
    const best = counts.get(letterGap)!;
    if (count > best || (count === best && gap.length < letterGap.length)) letterGap = gap;
  }
  const out: ViewWord[] = [];
  let first = 0;
  for (let k = 1; k <= run.length; k++) {
    if (k < run.length && gaps[k - 1] === letterGap) continue;
    const letters = run.slice(first, k);
    for (const part of vocabulary.segment(letters.map((w) => view.text.slice(w.vs, w.ve)))) {
      out.push({
        start: view.from[letters[part.first].vs],
        end: view.to[letters[part.last].ve - 1],
        norm: part.norm,
        runStart,
      });
    }
    first = k;
  }
  return out;
}

/** The words of the protected texts, for splitting a collapsed run into the words it spells. */
export class Vocabulary {
  private readonly words = new Set<string>();
  private longest = 0;

  add(word: string): void {
    this.words.add(word);
    this.longest = Math.max(this.longest, word.length);
  }

  /**
   * `letters` (one string each) as known words, in as few words as possible,
   * letters that start no known word where they stand left over (each run of
   * them one word); as one word when they are one already or spell no known
   * word at all. Returns each word with the indexes of its first and last letter.
   */
  segment(letters: string[]): Array<{ norm: string; first: number; last: number }> {
    const whole = letters.join('');
    const one = [{ norm: whole, first: 0, last: letters.length - 1 }];
    if (this.words.has(whole) || letters.length < 2) return one;
    const n = letters.length;
    const leftover = n + 1;
    const { cost, back } = this.cheapestCover(letters, leftover);
    if (cost[n] >= n * leftover) return one;
    return coverParts(back).map(({ first, last }) => ({
      norm: letters.slice(first, last + 1).join(''),
      first,
      last,
    }));
  }

  /**
   * Least cost covering the first i letters, for each i (dynamic programming): a known word costs 1,
   * a leftover letter `leftover`, more than any number of words could, so known words cover as many
   * letters as they can. `back[i]`: where the cover's last piece starts (a word), or -1 - that (a letter).
   */
  private cheapestCover(letters: string[], leftover: number): { cost: Float64Array; back: Int32Array } {
    const n = letters.length;
    const cost = new Float64Array(n + 1).fill(Infinity);
    const back = new Int32Array(n + 1);
    cost[0] = 0;
    for (let i = 0; i < n; i++) {
      if (cost[i] + leftover < cost[i + 1]) {
        cost[i + 1] = cost[i] + leftover;
        back[i + 1] = -1 - i;
      }
      let word = '';
      for (let j = i; j < n; j++) {
        word += letters[j];
        if (word.length > this.longest) break;
        if (this.words.has(word) && cost[i] + 1 < cost[j + 1]) {
          cost[j + 1] = cost[i] + 1;
          back[j + 1] = i;
        }
      }
    }
    return { cost, back };
  }
}

/** The pieces of the cheapest cover of all the letters, in order, from its back pointers. */
function coverParts(back: Int32Array): Array<{ first: number; last: number; known: boolean }> {
  const parts: Array<{ first: number; last: number; known: boolean }> = [];
  for (let end = back.length - 1; end > 0;) {
    const known = back[end] >= 0;
    const start = known ? back[end] : -1 - back[end];
    const prev = parts[parts.length - 1];
    // Leftover letters next to each other are one word.
    if (!known && prev && !prev.known) prev.first = start;
    else parts.push({ first: start, last: end - 1, known });
    end = start;
  }
  return parts.reverse();
}
