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
