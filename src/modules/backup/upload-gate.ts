import { Transform, type TransformCallback } from 'node:stream';
import { checksumMatches } from '../../common/checksum.js';
import { OffThreadHash } from '../../common/hashing/off-thread-hash.js';
import { BackupException } from './backup.errors.js';

export interface UploadGateOptions {
  /** Bytes the upload may have at most; one more fails the stream with `tooLarge(size)`. */
  room: number;
  tooLarge: (size: number) => Error;
  /** The SHA-256 (lowercase hex) the whole body must have; a mismatch fails the stream at its end. */
  checksum: string;
}

/**
 * The stream an upload passes through on its way to the blob store: it counts
 * the bytes and stops at the room left, hashes them on a worker thread, and
 * fails at the end when the hash does not match, before the store finalises
 * the object, so a refused upload stores nothing.
 */
export class UploadGate extends Transform {
  private readonly hash = new OffThreadHash();
  /**
   * Bytes seen so far. Not named `size`: the S3 driver's multipart Upload (lib-storage) reads a
   * body's `size` as its total length, and a gate saying 0 there failed every upload of more than
   * one part ("Expected 0 part(s) but uploaded 4"), answered 400 upload_incomplete.
   */
  private received = 0;

  constructor(private readonly options: UploadGateOptions) {
    // Room for a few MiB between the socket and the store, so neither side waits on the other per chunk.
    super({ highWaterMark: 4 * 1024 * 1024 });
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.received;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.received += chunk.length;
    if (this.received > this.options.room) return done(this.options.tooLarge(this.received));
    this.hash.update(chunk);
    // Passed on as they come (no copying into bigger buffers): the store batches them itself.
    // When the hashing worker falls behind, wait for it (bounded memory).
    const ready = this.hash.ready();
    if (!ready) return done(null, chunk);
    void ready.then(() => done(null, chunk));
  }

  override _flush(done: TransformCallback): void {
    this.hash.digest().then(
      (digest) =>
        checksumMatches(digest, this.options.checksum)
          ? done()
          : done(
              new BackupException(
                'checksum_mismatch',
                'X-Backup-Checksum does not match the SHA-256 of the body',
              ),
            ),
      (err: Error) => done(err),
    );
  }

  /** Stops the gate and its hashing worker after a failed store. */
  abandon(): void {
    this.destroy();
    this.hash.discard();
  }
}
