import type { Readable } from 'node:stream';

export interface PutOptions {
  /** Lowercase hex SHA-256 of the bytes, kept with the object (S3 metadata). */
  checksum?: string;
  /** When known, lets a driver skip buffering to learn the size. */
  contentLength?: number;
}

export interface StoredBlob {
  stream: Readable;
  size: number;
  checksum?: string;
}

/**
 * Where encrypted blobs live: S3 (or any S3-protocol server) or local files.
 * Keys are `/`-separated paths of safe segments (`{user_id}/{table}/{id}`).
 * Bodies stream in and out; drivers never hold a large object in memory.
 */
export abstract class BlobStore {
  abstract readonly driver: 's3' | 'files';
  /** Writes the whole object or nothing: a failed put leaves no object under `key`. */
  abstract put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<{ size: number }>;
  /** The object, or null when there is none. */
  abstract get(key: string): Promise<StoredBlob | null>;
  /** Idempotent: deleting a missing key succeeds. */
  abstract delete(key: string): Promise<void>;
  /** Throws when the store cannot be reached (readiness). */
  abstract ping(): Promise<void>;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Rejects keys that could escape the store's root or confuse a driver. */
export function assertValidKey(key: string): void {
  const parts = key.split('/');
  if (
    parts.length === 0 ||
    parts.length > 8 ||
    !parts.every((p) => SEGMENT.test(p) && p !== '..' && !p.endsWith('.tmp'))
  ) {
    throw new Error(`Invalid blob key: ${JSON.stringify(key)}`);
  }
}
