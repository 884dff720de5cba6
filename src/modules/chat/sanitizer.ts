/**
 * Output sanitizer: whatever the model says, no server prompt, canary token or
 * reasoning block reaches a client. Pure logic (no Nest), so the same code
 * serves REST bodies and every chunk of every stream.
 *
 * - Prompt passages are found on word n-grams: the protected texts (system
 *   prompts, router prompt, templates, tool descriptions and schemas) are cut
 *   into every run of N consecutive words, lowercased and Unicode-normalised,
 *   so a repeat with other whitespace, case or punctuation between the words
 *   is still found. Every run of the output that matches is redacted; runs
 *   that overlap merge into one redaction.
 * - Canary tokens (one per deployment, planted in every system prompt) are
 *   redacted wherever they appear, in any case.
 * - Reasoning blocks (`<think>…</think>`, `[INST]…[/INST]`), and an opened
 *   block that never closes, are redacted whole.
 *
 * On streams the sanitizer holds back a bounded tail (the last N-1 words, a
 * word still arriving, an opened reasoning block) so a passage split across
 * chunks is caught before any of it is sent.
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

const WORD = /[\p{L}\p{N}_]+/gu;
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
    out.push({ start: m.index, end: m.index + m[0].length, norm: m[0].normalize('NFKC').toLowerCase() });
  }
  return out;
}

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
    this.canaries = canaries.filter((c) => c.length > 0).map((c) => c.toLowerCase());
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
   */
  scan(
    buffer: string,
    final: boolean,
    counts: RedactionCounts,
    skip = 0,
  ): { output: string; consumed: number; endsRedacted: boolean } {
    const lower = buffer.toLowerCase();
    const spans: Span[] = [];
    let cut = buffer.length;
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
    const complete =
      !final && all.length && all[all.length - 1].end === buffer.length ? all.slice(0, -1) : all;
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

    let output = '';
    let pos = skip;
    let endsRedacted = false;
    for (const span of merged) {
      if (span.end <= skip) continue;
      if (span.start >= cut) break;
      output += buffer.slice(pos, Math.max(span.start, skip)) + REDACTED;
      counts[span.kind] += 1;
      pos = span.end;
      endsRedacted = pos === cut;
    }
    output += buffer.slice(pos, cut);
    if (pos < cut) endsRedacted = false;
    return { output, consumed: cut, endsRedacted };
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
  const lower = buffer.toLowerCase();
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
    );
    this.context = text.slice(this.sanitizer.contextStart(text.slice(0, consumed)), consumed);
    this.buffer = compactOpenBlock(text.slice(consumed), this.sanitizer.maxHold);
    let sent = output;
    // A passage redacted across two takes reads as one redaction.
    if (this.lastRedacted && sent.startsWith(REDACTED)) sent = sent.slice(REDACTED.length);
    if (output.length > 0) this.lastRedacted = endsRedacted;
    return sent;
  }
}
