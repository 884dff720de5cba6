/**
 * Output sanitizer: whatever the model says, no server prompt, canary token or
 * reasoning block reaches a client. Pure logic (no Nest), so the same code
 * serves REST bodies, action data and every chunk of every stream.
 *
 * Everything is matched on the normalised view of the text
 * (sanitizer-normalise.ts: NFKC, invisible characters dropped, case and
 * diacritics folded, TR39 look-alikes mapped to one skeleton, spaced-out
 * letters collapsed) and redacted in the original, at the span the match
 * came from.
 *
 * - Prompt passages are found on word n-grams: the protected texts (system
 *   prompts, router prompt, templates, tool descriptions and schemas) are cut
 *   into every run of N consecutive words of their view, so a repeat with other
 *   whitespace, case, punctuation, invisible characters, look-alike letters or
 *   letter spacing between or inside the words is still found. A word is
 *   letters, digits and marks: `_` and `-` separate words, so `due_date`,
 *   `due-date` and "due date" read alike. Every run of the output that matches
 *   is redacted; runs that overlap merge into one redaction.
 * - Canary tokens (one per deployment, planted in every system prompt) are
 *   redacted wherever their letters and digits appear in a row of the view,
 *   whatever separates them ("cnry-9f3b…", "c n r y 9 f…").
 * - Reasoning blocks (`<think>…</think>`, `[INST]…[/INST]`), and an opened
 *   block that never closes, are redacted whole.
 *
 * On streams the sanitizer holds back a bounded tail (the last N-1 words, a
 * word or spaced-out run still arriving, the start of a canary, an opened
 * reasoning block) so a passage split across chunks is caught before any of it
 * is sent. A redaction the bound forces out before it has ended reads as one
 * `[REDACTED]` all the same: a stream says exactly what the whole text says.
 *
 * Offsets are UTF-16 code units of the original text.
 */

import {
  endAfter,
  type MatchView,
  normalise,
  startBefore,
  viewIndexAt,
  type ViewWord,
  viewWords,
  Vocabulary,
  WORD,
} from './sanitizer-normalise.js';

export const REDACTED = '[REDACTED]';
/** Words per prompt n-gram unless `SanitizerOptions.ngram` says otherwise: the shortest passage redacted. */
export const DEFAULT_NGRAM = 6;

export type RedactionKind = 'prompt' | 'canary' | 'reasoning';
export type RedactionCounts = Record<RedactionKind, number>;

export interface SanitizerOptions {
  /** Words per n-gram: shorter catches smaller fragments, longer avoids false alarms. */
  ngram?: number;
  /** Most characters a stream holds back outside an open reasoning block. */
  maxHold?: number;
}

const BLOCK_TAGS: ReadonlyArray<{ open: string; close: string }> = [
  { open: '<think>', close: '</think>' },
  { open: '[INST]', close: '[/INST]' },
];
/** The tags as the view reads them. */
const BLOCKS = BLOCK_TAGS.map((b) => ({ open: normalise(b.open).text, close: normalise(b.close).text }));
const LONGEST_TAG = Math.max(...BLOCKS.flatMap((b) => [b.open.length, b.close.length]));

interface Span {
  start: number;
  end: number;
  kind: RedactionKind;
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/** The letters and digits of a view in a row (what a canary is looked for in), each with its view index. */
function lettersOf(view: MatchView): { letters: string; at: number[] } {
  let letters = '';
  const at: number[] = [];
  for (const m of view.text.matchAll(WORD)) {
    letters += m[0];
    for (let k = 0; k < m[0].length; k++) at.push(m.index + k);
  }
  return { letters, at };
}

export function emptyCounts(): RedactionCounts {
  return { prompt: 0, canary: 0, reasoning: 0 };
}

export class Sanitizer {
  private readonly n: number;
  readonly maxHold: number;
  private readonly grams = new Set<string>();
  private readonly vocabulary = new Vocabulary();
  /** Each canary's letters and digits as the view reads them. */
  private readonly canaries: string[];

  constructor(
    protectedTexts: readonly string[],
    canaries: readonly string[],
    options: SanitizerOptions = {},
  ) {
    this.n = options.ngram ?? DEFAULT_NGRAM;
    this.maxHold = options.maxHold ?? 2048;
    const views = protectedTexts.map((text) => normalise(text));
    // Every word first: a spaced-out run in a protected text is split on the same vocabulary as in output.
    for (const view of views) for (const m of view.text.matchAll(WORD)) this.vocabulary.add(m[0]);
    for (const view of views) {
      const w = viewWords(view, this.vocabulary, true).map((x) => x.norm);
      for (let i = 0; i + this.n <= w.length; i++) this.grams.add(w.slice(i, i + this.n).join(' '));
    }
    this.canaries = canaries.map((c) => lettersOf(normalise(c)).letters).filter((c) => c.length > 0);
  }

  /** How many distinct protected n-grams are known (for start-up logs and tests). */
  get size(): number {
    return this.grams.size;
  }

  /** Sanitizes a whole text (a REST body's strings). */
  sanitize(text: string): { text: string; counts: RedactionCounts } {
    const counts = emptyCounts();
    const { output } = this.scan(text, true, counts);
    return { text: output, counts };
  }

  /** A sanitizer for one stream: push chunks as they come, `end()` once. */
  stream(): StreamSanitizer {
    return new StreamSanitizer(this);
  }

  /**
   * Finds the redactions in `buffer` and returns the part of it that is final
   * (`consumed` characters, rendered as `output`). Not final: keeps back what a
   * later chunk could still turn into (part of) a redaction.
   *
   * `skip`: the first characters are context already sent (matched against,
   * never rendered again). `continuing`: what was sent last is a redaction
   * reaching `skip`; a redaction that goes on from there adds no second
   * marker. `endsRedacted` says the same of this call's end, for the next.
   * `contextStart`: where the context for the next call starts (the last N-1
   * words before `consumed`, from the start of a spaced-out run they are in).
   */
  scan(
    buffer: string,
    final: boolean,
    counts: RedactionCounts,
    skip = 0,
    continuing = false,
  ): { output: string; consumed: number; endsRedacted: boolean; contextStart: number } {
    // A chunk may end between the two halves of a surrogate pair: the half that came waits for the other.
    const edge =
      !final && isHighSurrogate(buffer.charCodeAt(buffer.length - 1)) ? buffer.length - 1 : buffer.length;
    const view = normalise(buffer, edge);
    const text = view.text;
    /** Original offset where view unit `v` starts (the end of the view: the edge). */
    const orig = (v: number): number => (v < text.length ? view.from[v] : edge);
    const origEnd = (v: number): number => view.to[v - 1];
    const spans: Span[] = [];
    let cut = edge;
    let openAt = -1;

    // Reasoning blocks; an unclosed one runs to the end (final) or holds everything from it.
    let from = viewIndexAt(view, skip);
    for (;;) {
      let next: { at: number; block: (typeof BLOCKS)[number] } | undefined;
      for (const block of BLOCKS) {
        const at = text.indexOf(block.open, from);
        if (at >= 0 && (!next || at < next.at)) next = { at, block };
      }
      if (!next) break;
      const close = text.indexOf(next.block.close, next.at + next.block.open.length);
      if (close < 0) {
        if (final) spans.push({ start: orig(next.at), end: buffer.length, kind: 'reasoning' });
        else {
          cut = Math.min(cut, orig(next.at));
          openAt = orig(next.at);
        }
        break;
      }
      const end = close + next.block.close.length;
      spans.push({ start: orig(next.at), end: origEnd(end), kind: 'reasoning' });
      from = end;
    }
    if (!final) {
      // A tag still arriving ("<thi"): hold from its first character.
      const tailStart = Math.max(0, text.length - LONGEST_TAG + 1);
      for (let i = tailStart; i < text.length; i++) {
        const rest = text.slice(i);
        if (BLOCKS.some((b) => b.open.startsWith(rest))) {
          cut = Math.min(cut, orig(i));
          break;
        }
      }
    }

    // Canaries: in the letters and digits of the view, whatever separates them.
    if (this.canaries.length > 0) {
      const { letters, at } = lettersOf(view);
      for (const canary of this.canaries) {
        for (let k = letters.indexOf(canary); k >= 0; k = letters.indexOf(canary, k + canary.length)) {
          spans.push({ start: orig(at[k]), end: origEnd(at[k + canary.length - 1] + 1), kind: 'canary' });
        }
        if (!final) {
          // The letters so far may end in the start of a canary: hold from there.
          for (let len = Math.min(canary.length - 1, letters.length); len > 0; len--) {
            if (letters.endsWith(canary.slice(0, len))) {
              cut = Math.min(cut, orig(at[letters.length - len]));
              break;
            }
          }
        }
      }
    }

    const all = viewWords(view, this.vocabulary, final, this.maxHold / 2);
    // A word (or spaced-out run) that may still grow is not matched yet.
    const open = all.findIndex((w) => w.open);
    const complete = open < 0 ? all : all.slice(0, open);
    for (let i = 0; i + this.n <= complete.length; i++) {
      let gram = complete[i].norm;
      for (let k = i + 1; k < i + this.n; k++) gram += ' ' + complete[k].norm;
      if (this.grams.has(gram)) {
        spans.push({ start: complete[i].start, end: complete[i + this.n - 1].end, kind: 'prompt' });
      }
    }
    if (!final) {
      // An n-gram ending in a word yet to come starts at the (N-1)th last complete word at the earliest.
      const keepWords = this.n - 1;
      const holdWord = complete.length >= keepWords ? complete[complete.length - keepWords] : complete[0];
      if (keepWords > 0 && holdWord) cut = Math.min(cut, holdWord.start);
      if (open >= 0) cut = Math.min(cut, all[open].runStart ?? all[open].start);
      // Invisible characters in front of what is held wait with it (a redaction of it would take them).
      cut = startBefore(buffer, cut, skip);
      // Bounded: never hold more than maxHold characters (an open reasoning block is compacted instead).
      if (openAt < 0 && buffer.length - cut > this.maxHold) cut = buffer.length - this.maxHold;
    }

    // A redaction takes the invisible characters around it, and the marks after it, with it.
    for (const span of spans) {
      span.start = startBefore(buffer, span.start);
      span.end = endAfter(buffer, span.end, edge);
    }
    const merged = mergeSpans(spans);
    // Never cut inside a redaction: hold it whole while it may still grow (a
    // passage repeated at length is one run of overlapping n-grams), unless
    // that would pass the bound, then send it redacted up to its known end.
    for (const span of merged) {
      if (span.start < cut && span.end > cut) {
        cut = buffer.length - span.start <= this.maxHold ? span.start : span.end;
      }
    }
    cut = Math.max(cut, skip);
    // Never between the halves of a surrogate pair (the bound counts code units); no span ends there.
    if (cut > skip && isLowSurrogate(buffer.charCodeAt(cut)) && isHighSurrogate(buffer.charCodeAt(cut - 1))) {
      cut -= 1;
    }

    let output = '';
    let pos = skip;
    for (const span of merged) {
      if (span.end <= skip) continue;
      // A span past the cut, or one from the context still growing (cut === skip): nothing of it is final.
      if (span.start >= cut || span.end > cut) break;
      output += buffer.slice(pos, Math.max(span.start, skip));
      // Touching or overlapping the redaction sent last: the same redaction (the whole text merges them too).
      if (!(continuing && pos === skip && span.start <= skip)) {
        output += REDACTED;
        counts[span.kind] += 1;
      }
      pos = span.end;
    }
    output += buffer.slice(pos, cut);
    return {
      output,
      consumed: cut,
      endsRedacted: cut > skip ? pos === cut : continuing,
      contextStart: this.contextStart(all, cut),
    };
  }

  /** Where the last N-1 words before `consumed` start: the context a stream keeps for matching. */
  private contextStart(all: readonly ViewWord[], consumed: number): number {
    let last = all.length;
    while (last > 0 && all[last - 1].start >= consumed) last--;
    if (this.n - 1 <= 0) return consumed;
    if (last < this.n - 1) return 0;
    const word = all[last - (this.n - 1)];
    // From the start of a spaced-out run it belongs to, so the run reads the same next time (within the bound).
    const start =
      word.runStart !== undefined && consumed - word.runStart <= this.maxHold ? word.runStart : word.start;
    return Math.min(start, consumed);
  }
}

/** Overlapping or touching spans become one (the first kind found names it). */
function mergeSpans(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Span[] = [];
  for (const span of sorted) {
    const last = out[out.length - 1];
    if (last && span.start <= last.end) last.end = Math.max(last.end, span.end);
    else out.push({ ...span });
  }
  return out;
}

/** Original characters kept at the end of a compacted open block: its close tag, invisible characters between its letters and all. */
const BLOCK_TAIL = 4 * LONGEST_TAG;

/**
 * A held-back reasoning block that has not closed yet is redacted whole once it
 * does, so its middle need not be kept: the open tag and a tail long enough to
 * see the close tag arrive are.
 */
function compactOpenBlock(buffer: string, maxHold: number): string {
  if (buffer.length <= maxHold) return buffer;
  const view = normalise(buffer);
  for (const block of BLOCKS) {
    const at = view.text.indexOf(block.open);
    if (at >= 0 && !view.text.includes(block.close, at)) {
      const keep = view.to[at + block.open.length - 1];
      return buffer.slice(0, keep) + buffer.slice(Math.max(keep, buffer.length - BLOCK_TAIL));
    }
  }
  return buffer;
}

export class StreamSanitizer {
  /** The last words already sent: matched against, never sent again. */
  private context = '';
  private buffer = '';
  /** What was sent last is a redaction that a later match may continue (without a second marker). */
  private lastRedacted = false;
  private done = false;
  readonly counts = emptyCounts();

  constructor(private readonly sanitizer: Sanitizer) {}

  /** Characters received but not yet sent. */
  get held(): number {
    return this.buffer.length;
  }

  /** Text safe to send now (may be empty while a tail is held back). */
  push(chunk: string): string {
    if (this.done) throw new Error('push after end');
    this.buffer += chunk;
    return this.take(false);
  }

  /** Everything still held, sanitized as the end of the text. */
  end(): string {
    if (this.done) return '';
    const out = this.take(true);
    this.done = true;
    return out;
  }

  private take(final: boolean): string {
    const text = this.context + this.buffer;
    const { output, consumed, endsRedacted, contextStart } = this.sanitizer.scan(
      text,
      final,
      this.counts,
      this.context.length,
      this.lastRedacted,
    );
    this.context = text.slice(contextStart, consumed);
    this.buffer = compactOpenBlock(text.slice(consumed), this.sanitizer.maxHold);
    this.lastRedacted = endsRedacted;
    return output;
  }
}
