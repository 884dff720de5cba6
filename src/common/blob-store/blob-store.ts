import { Logger } from '@nestjs/common';
import type { Readable } from 'node:stream';

export interface PutOptions {
  /** Lowercase hex SHA-256 of the bytes, kept with the object (S3 metadata). */
  checksum?: string;
  /** When known, lets a driver choose its part size (S3 allows 10,000 parts per object). */
  contentLength?: number;
}

/** Inclusive byte range, as in HTTP Range. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredBlob {
  stream: Readable;
  /** Size of the whole object (not of the range). */
  size: number;
  checksum?: string;
}

/** One stored object, as a listing shows it. */
export interface ListedBlob {
  key: string;
  size: number;
  lastModified: Date;
}

/**
 * What an interrupted write leaves behind: a temp file (files driver), a
 * checksum file whose object never arrived (files), or a multipart upload that
 * was neither completed nor aborted (S3, where its parts are stored and billed).
 */
export interface UnfinishedWrite {
  kind: 'temp_file' | 'checksum_file' | 'multipart_upload' | 'staged_upload';
  /** The driver's handle for removeUnfinished (a path under its root, or an upload id). */
  ref: string;
  /** The key being written, where the store records it (S3 multipart uploads, staged direct uploads). */
  key?: string;
  size: number;
  /** When the write last made progress (a temp file's mtime, an upload's newest part). */
  lastActivity: Date;
}

/** The store refused to finish a direct upload (a part missing, another ETag): the client can still fix it. */
export class UploadRejected extends Error {}

/** One part of a direct upload as the client reports it at completion. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
}

/** A request a client makes straight to the store (a presigned URL and the headers it must send). */
export interface PresignedRequest {
  url: string;
  headers: Record<string, string>;
}

/** An object's size and, where the store keeps one it verified, its SHA-256 (lowercase hex). */
export interface BlobHead {
  size: number;
  sha256?: string;
}

/**
 * Where encrypted blobs live: S3 (or any S3-protocol server) or local files.
 * Keys are `/`-separated paths of safe segments (`{user_id}/{table}/{id}`).
 * Bodies stream in and out; drivers never hold a large object in memory.
 */
export abstract class BlobStore {
  abstract readonly driver: 's3' | 'files';
  /** Writes the whole object or nothing: a failed put leaves no object under `key`. */
  /** `parts`: how many pieces were stored (S3 multipart parts; 1 for a single write). */
  abstract put(
    key: string,
    body: Readable | Buffer,
    options?: PutOptions,
  ): Promise<{ size: number; parts: number }>;
  /** The object (or the `range` of it), or null when there is none. */
  abstract get(key: string, range?: ByteRange): Promise<StoredBlob | null>;
  /** Idempotent: deleting a missing key succeeds. */
  abstract delete(key: string): Promise<void>;
  /** Throws when the store cannot be reached (readiness). */
  abstract ping(): Promise<void>;
  /**
   * Every stored object whose key starts with `prefix`, fetched page by page as
   * the caller consumes them (never the whole listing in memory). No order is promised.
   */
  abstract list(prefix?: string, options?: { pageSize?: number }): AsyncIterable<ListedBlob>;
  /** Leftovers of writes that never finished (see UnfinishedWrite), page by page. */
  abstract listUnfinished(): AsyncIterable<UnfinishedWrite>;
  /** Removes one leftover; idempotent. The caller decides it is abandoned (by its age). */
  abstract removeUnfinished(write: UnfinishedWrite): Promise<void>;

  /**
   * A URL anyone holding it may GET the object from for `expiresInSeconds`
   * (S3 presigned), or null when the driver cannot make one (files: the
   * caller serves the bytes through a signed route of its own).
   */
  presignedGetUrl(_key: string, _expiresInSeconds: number): Promise<string | null> {
    return Promise.resolve(null);
  }

  // Direct uploads: the client sends the bytes to the store (S3: presigned requests) or, on the
  // files driver, to a signed route of ours that writes them into a staging file with writeStaged.
  // Nothing is an object under its key before finishDirectUpload; abortDirectUpload removes what
  // arrived. The caller verifies size and checksum afterwards (head, sha256Of).

  /** Opens a direct upload of `key`: an upload id (S3 multipart), or null (one presigned PUT; files). */
  abstract beginDirectUpload(key: string, options: { multipart: boolean }): Promise<string | null>;

  /**
   * The presigned PUT of the whole object, bound to its size and SHA-256 where the store checks
   * them (S3's x-amz-checksum-sha256); null on a driver that cannot presign (files).
   */
  presignedPut(
    _key: string,
    _object: { size: number; sha256: string; expiresInSeconds: number },
  ): Promise<PresignedRequest | null> {
    return Promise.resolve(null);
  }

  /** The presigned PUT of one part of a multipart upload; null on a driver that cannot presign. */
  presignedPartPut(
    _key: string,
    _part: { uploadId: string; partNumber: number; size: number; expiresInSeconds: number },
  ): Promise<PresignedRequest | null> {
    return Promise.resolve(null);
  }

  /**
   * Files driver: writes `body` at `offset` of the staging file of `key`'s direct upload, at most
   * `length` bytes (one more fails); answers the bytes written. Other drivers never stage.
   */
  writeStaged(_key: string, _offset: number, _body: Readable, _length: number): Promise<number> {
    return Promise.reject(new Error(`The ${this.driver} driver takes direct uploads itself`));
  }

  /** Makes the uploaded bytes the object under `key` (S3: completes the multipart upload with `parts`). */
  abstract finishDirectUpload(key: string, uploadId: string | null, parts: UploadedPart[]): Promise<void>;

  /** Removes whatever a direct upload left (its parts, its staging file, the object); idempotent. */
  abstract abortDirectUpload(key: string, uploadId: string | null): Promise<void>;

  /** The object's size (and verified SHA-256 where the store has one), or null when there is none. */
  abstract head(key: string): Promise<BlobHead | null>;

  /** Lowercase hex SHA-256 of the stored object, read back and hashed off the event loop. */
  abstract sha256Of(key: string): Promise<string>;

  /**
   * Best-effort removal of a blob no row points to any more (a failed write's
   * new blob, a replaced or purged one): a failure is logged for an operator,
   * never thrown into the request that already succeeded or already failed.
   */
  async discard(key: string): Promise<void> {
    try {
      await this.delete(key);
    } catch (err) {
      discardLogger.error(`Could not delete blob ${key}: ${(err as Error).message}`);
    }
  }
}

const discardLogger = new Logger('BlobStore');

/** S3 part size for an object of `size` bytes: at least 8 MiB, and large enough to fit in 10,000 parts. */
export function partSizeFor(size: number | undefined): number {
  const min = 8 * 1024 * 1024;
  if (!size) return min;
  return Math.max(min, Math.ceil(size / 10_000 / (1024 * 1024)) * 1024 * 1024);
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Rejects keys that could escape the store's root or confuse a driver. */
export function assertValidKey(key: string): void {
  const parts = key.split('/');
  if (
    parts.length === 0 ||
    parts.length > 8 ||
    !parts.every((p) => SEGMENT.test(p) && p !== '..' && !p.endsWith('.tmp') && !p.endsWith('.upload'))
  ) {
    throw new Error(`Invalid blob key: ${JSON.stringify(key)}`);
  }
}
