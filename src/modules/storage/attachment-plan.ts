import type { ByteRange } from '../../common/blob-store/blob-store.js';
import { satisfiableRange } from '../../common/http/byte-range.js';
import { StorageException } from './storage.errors.js';

/** One part of an upload in parts: its number (from 1), where it starts and its exact size. */
export interface PartPlan {
  number: number;
  offset: number;
  size: number;
}

/** The parts of a file of `size` bytes cut every `partSize` bytes (the last one shorter). */
export function partsOf(size: number, partSize: number): PartPlan[] {
  const parts: PartPlan[] = [];
  for (let offset = 0, number = 1; offset < size; offset += partSize, number += 1) {
    parts.push({ number, offset, size: Math.min(partSize, size - offset) });
  }
  return parts;
}

/**
 * The bytes an upload request carries within its target (a part, or the whole file, of `size`
 * bytes): all of them without Content-Range, else `bytes first-last/size` (the total must be the
 * target's size, so a client cannot write past it).
 */
export function contentRangeOf(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return { start: 0, end: size - 1 };
  const match = /^bytes (\d{1,16})-(\d{1,16})\/(\d{1,16})$/.exec(header.trim());
  const start = Number(match?.[1]);
  const end = Number(match?.[2]);
  if (!match || Number(match[3]) !== size || !(start <= end) || end >= size) {
    throw new StorageException(
      'validation_failed',
      `Content-Range must be "bytes first-last/${size}" within this part or file (${size} bytes)`,
    );
  }
  return { start, end };
}

/** One HTTP Range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) of a file of `size` bytes; 416 outside it. */
export function rangeOf(header: string, size: number): ByteRange {
  const range = satisfiableRange(header, size);
  if (!range) {
    throw new StorageException(
      'range_not_satisfiable',
      `Range not satisfiable: the attachment has ${size} bytes`,
      {
        content_range: `bytes */${size}`,
      },
    );
  }
  return range;
}
