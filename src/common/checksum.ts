import { AppException } from './errors/app.exception.js';
import { createHash, timingSafeEqual } from 'node:crypto';

/** Checksums on the wire: lowercase hex SHA-256 of the raw bytes. */
export const CHECKSUM_PATTERN = /^[0-9a-f]{64}$/;

export function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** Constant-time comparison of a SHA-256 digest with a client's hex checksum. */
export function checksumMatches(digest: Buffer, checksum: string): boolean {
  const expected = Buffer.from(checksum, 'hex');
  return expected.length === digest.length && timingSafeEqual(digest, expected);
}

/**
 * Decodes a base64 blob from a JSON body, refusing (413 with `message`) one
 * over `max` bytes by its encoded length before decoding anything large.
 */
export function decodeBlob(base64: string, max: number, message: string): Buffer {
  if (Math.floor((base64.length * 3) / 4) - 2 > max) throw new AppException('payload_too_large', message);
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length > max) throw new AppException('payload_too_large', message);
  return bytes;
}
