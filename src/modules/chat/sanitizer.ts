/**
 * Output sanitizer: whatever the model says, no server prompt, canary token or
 * reasoning block reaches a client. Pure logic (no Nest), so the same code
 * serves REST bodies and every chunk of every stream.
 *
 * - Prompt passages are found on word n-grams: the protected texts (system
 *   prompts, router prompt, templates, tool descriptions and schemas) are cut
 *   into every run of N consecutive words, lowercased and Unicode-normalised,
 *   so a repeat with other whitespace, case or punctuation between the words
 *   is still found. A word is letters, digits and combining marks: `_` and `-`
 *   separate words, so `due_date`, `due-date` and "due date" read alike. Every
 *   run of the output that matches is redacted; runs that overlap merge into
 *   one redaction.
 * - Canary tokens (one per deployment, planted in every system prompt) are
 *   redacted wherever they appear, in any case.
 * - Reasoning blocks (`<think>…</think>`, `[INST]…[/INST]`), and an opened
 *   block that never closes, are redacted whole.
 *
 * On streams the sanitizer holds back a bounded tail (the last N-1 words, a
 * word still arriving, an opened reasoning block) so a passage split across
 * chunks is caught before any of it is sent. A redaction the bound forces out
 * before it has ended reads as one `[REDACTED]` all the same: a stream says
 * exactly what the whole text says.
 *
 * Offsets are UTF-16 code units of the original text. Tags and canaries are
 * searched in a case fold that keeps every character's length (`foldCase`),
 * so what is found there is cut from the original at the same place.
 */

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

/** Letters, digits and combining marks (so a decomposed "é" stays in its word); anything else separates. */
const WORD = /[\p{L}\p{N}\p{M}]+/gu;
const BLOCKS: ReadonlyArray<{ open: string; close: string }> = [
  { open: '<think>', close: '</think>' },
  { open: '[inst]', close: '[/inst]' },
];
const LONGEST_TAG = Math.max(...BLOCKS.flatMap((b) => [b.open.length, b.close.length]));

interface Span {
  start: number;
  end: number;
  kind: RedactionKind;
}

interface Word {
  start: number;
  end: number;
  norm: string;
}

function words(text: string): Word[] {
  const out: Word[] = [];
  for (const m of text.matchAll(WORD)) {
    const nfkc = m[0].normalize('NFKC');
    const lower = nfkc.toLowerCase();
    // "İ" reads as "i" here too (an "İ" for "I" still matches); the common case pays one comparison.
    const norm = lower.length === nfkc.length ? lower : foldCase(nfkc);
    out.push({ start: m.index, end: m.index + m[0].length, norm });
  }
  return out;
}

/** Characters `toLowerCase` may change (ASCII other than A-Z never changes). */
const CASED = /[A-Z\u0080-\u{10FFFF}]/gu;

function foldChar(ch: string): string {
  const lower = ch.toLowerCase();
  if (lower.length === ch.length) return lower;
  // "İ" lowercases to "i" + U+0307 (two code units): its first character alone keeps the length.
  const first = String.fromCodePoint(lower.codePointAt(0)!);
  return first.length === ch.length ? first : ch;
}

/**
 * Lowercase that keeps every character's length in UTF-16 code units, so an
 * offset found in the fold cuts the original at the same place.
 * `toLowerCase` does not: "İ" (U+0130) becomes two code units, and every
 * offset after it would be one too far. No character lowercases to fewer
 * code units (sanitizer.spec.ts checks all of Unicode), so the same length
 * means nothing grew; otherwise (a character a later Unicode adds) each
 * character is folded on its own.
 */
export function foldCase(text: string): string {
  const lower = text.toLowerCase();
  if (lower.length === text.length) return lower;
  // "İ" is the one character that grows today: drop the U+0307 each one gained after its "i".
  let out = '';
  let from = 0;
  let shift = 0;
  for (let at = text.indexOf('\u0130'); at >= 0; at = text.indexOf('\u0130', at + 1)) {
    out += lower.slice(from + shift, at + shift + 1);
    shift += 1;
    from = at + 1;
  }
  out += lower.slice(from + shift);
  // Anything else that grew (a later Unicode): fold character by character.
  return out.length === text.length ? out : text.replace(CASED, foldChar);
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

export function emptyCounts(): RedactionCounts {
  return { prompt: 0, canary: 0, reasoning: 0 };
}

export class Sanitizer {
  private readonly n: number;
  readonly maxHold: number;
  private readonly grams = new Set<string>();
  private readonly canaries: string[];

  constructor(
    protectedTexts: readonly string[],
    canaries: readonly string[],
    options: SanitizerOptions = {},
  ) {
    this.n = options.ngram ?? DEFAULT_NGRAM;
    this.maxHold = options.maxHold ?? 2048;
    for (const text of protectedTexts) {
      const w = words(text).map((x) => x.norm);
      for (let i = 0; i + this.n <= w.length; i++) this.grams.add(w.slice(i, i + this.n).join(' '));
    }
    this.canaries = canaries.filter((c) => c.length > 0).map(foldCase);
  }

  /** How many distinct protected n-grams are known (for start-up logs and tests). */
  get size(): number {
    return this.grams.size;
  }

  /** Where the last N-1 words of `sent` start: the context a stream keeps for matching. */
  contextStart(sent: string): number {
    const all = words(sent);
    return all.length >= this.n - 1 ? (all[all.length - (this.n - 1)]?.start ?? sent.length) : 0;
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
   */
  scan(
    buffer: string,
    final: boolean,
    counts: RedactionCounts,
    skip = 0,
    continuing = false,
  ): { output: string; consumed: number; endsRedacted: boolean } {
    const lower = foldCase(buffer);
    // A chunk may end between the two halves of a surrogate pair: the half that came waits for the other.
    const edge =
      !final && isHighSurrogate(buffer.charCodeAt(buffer.length - 1)) ? buffer.length - 1 : buffer.length;
    const spans: Span[] = [];
    let cut = edge;
    let openAt = -1;

    // Reasoning blocks; an unclosed one runs to the end (final) or holds everything from it.
    let from = skip;
    for (;;) {
      let next: { at: number; block: (typeof BLOCKS)[number] } | undefined;
      for (const block of BLOCKS) {
        const at = lower.indexOf(block.open, from);
        if (at >= 0 && (!next || at < next.at)) next = { at, block };
      }
      if (!next) break;
      const close = lower.indexOf(next.block.close, next.at + next.block.open.length);
      if (close < 0) {
        if (final) spans.push({ start: next.at, end: buffer.length, kind: 'reasoning' });
        else {
          cut = Math.min(cut, next.at);
          openAt = next.at;
        }
        break;
      }
      const end = close + next.block.close.length;
      spans.push({ start: next.at, end, kind: 'reasoning' });
      from = end;
    }
    if (!final) {
      // A tag still arriving ("<thi"): hold from its first character.
      const tail = lower.slice(Math.max(0, buffer.length - LONGEST_TAG + 1));
      for (let i = 0; i < tail.length; i++) {
        const rest = tail.slice(i);
        if (BLOCKS.some((b) => b.open.startsWith(rest))) {
          cut = Math.min(cut, buffer.length - tail.length + i);
          break;
        }
      }
    }

    for (const canary of this.canaries) {
      for (let at = lower.indexOf(canary, skip); at >= 0; at = lower.indexOf(canary, at + canary.length)) {
        spans.push({ start: at, end: at + canary.length, kind: 'canary' });
      }
    }

    const all = words(buffer);
    // The last word may still be growing unless the stream is over.
    const complete = !final && all.length && all[all.length - 1].end >= edge ? all.slice(0, -1) : all;
    for (let i = 0; i + this.n <= complete.length; i++) {
      const gram = complete
        .slice(i, i + this.n)
        .map((w) => w.norm)
        .join(' ');
      if (this.grams.has(gram)) {
        spans.push({ start: complete[i].start, end: complete[i + this.n - 1].end, kind: 'prompt' });
      }
    }
    if (!final) {
      // An n-gram ending in a word yet to come starts at the (N-1)th last complete word at the earliest.
      const keepWords = this.n - 1;
      const holdWord = complete.length >= keepWords ? complete[complete.length - keepWords] : complete[0];
      if (keepWords > 0 && holdWord) cut = Math.min(cut, holdWord.start);
      if (complete.length < all.length) cut = Math.min(cut, all[all.length - 1].start);
      // Bounded: never hold more than maxHold characters (an open reasoning block is compacted instead).
      if (openAt < 0 && buffer.length - cut > this.maxHold) cut = buffer.length - this.maxHold;
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
    return { output, consumed: cut, endsRedacted: cut > skip ? pos === cut : continuing };
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

/**
 * A held-back reasoning block that has not closed yet is redacted whole once it
 * does, so its middle need not be kept: the open tag and a tail long enough to
 * see the close tag arrive are.
 */
function compactOpenBlock(buffer: string, maxHold: number): string {
  if (buffer.length <= maxHold) return buffer;
  const lower = foldCase(buffer);
  for (const block of BLOCKS) {
    const at = lower.indexOf(block.open);
    if (at >= 0 && !lower.includes(block.close, at)) {
      const keep = at + block.open.length;
      return buffer.slice(0, keep) + buffer.slice(Math.max(keep, buffer.length - LONGEST_TAG));
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
    const { output, consumed, endsRedacted } = this.sanitizer.scan(
      text,
      final,
      this.counts,
      this.context.length,
      this.lastRedacted,
    );
    this.context = text.slice(this.sanitizer.contextStart(text.slice(0, consumed)), consumed);
    this.buffer = compactOpenBlock(text.slice(consumed), this.sanitizer.maxHold);
    this.lastRedacted = endsRedacted;
    return output;
  }
}
