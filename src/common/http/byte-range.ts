import type { ByteRange } from '../blob-store/blob-store.js';

/**
 * One HTTP Range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) of content of `size` bytes, the end clamped
 * to the content; undefined when it cannot be satisfied (malformed, several ranges, or starting
 * past the end), which the caller answers 416 with a Content-Range naming the size.
 */
export function satisfiableRange(header: string, size: number): ByteRange | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  let start = NaN;
  let end = NaN;
  if (match && match[1] !== '') {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  } else if (match && match[2] !== '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  }
  return start <= end && start < size ? { start, end } : undefined;
}
