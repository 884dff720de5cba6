import { Transform, type TransformCallback } from 'node:stream';
import { checksumMatches } from '../../common/checksum.js';
import { OffThreadHash } from '../../common/hashing/off-thread-hash.js';
import { StorageException } from './storage.errors.js';

/**
 * What a files-driver upload passes through on its way into the staging file: it counts the
 * bytes (one past `length` fails), and for a PUT of the whole file hashes them on a worker thread
 * and fails at the end on a mismatch, so wrong bytes are refused by the upload itself.
 */
export class StagingGate extends Transform {
  private readonly hash?: OffThreadHash;
  bytes = 0;
  /** Why the gate failed the stream, when it did. */
  failure?: StorageException;
  mismatched = false;

  constructor(
    private readonly length: number,
    private readonly sha256?: string,
  ) {
    super({ highWaterMark: 4 * 1024 * 1024 });
    if (sha256) this.hash = new OffThreadHash();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.length) {
      return done(
        (this.failure = new StorageException(
          'validation_failed',
          `The body has more than ${this.length} bytes`,
        )),
      );
    }
    if (!this.hash) return done(null, chunk);
    this.hash.update(chunk);
    const ready = this.hash.ready();
    if (!ready) return done(null, chunk);
    void ready.then(() => done(null, chunk));
  }

  override _flush(done: TransformCallback): void {
    if (!this.hash || this.bytes !== this.length) return done();
    this.hash.digest().then((digest) => {
      if (checksumMatches(digest, this.sha256!)) return done();
      this.mismatched = true;
      this.failure = new StorageException(
        'checksum_mismatch',
        'The bytes do not match the attachment’s sha256: nothing was kept; create the attachment again',
      );
      done(this.failure);
    }, done);
  }

  abandon(): void {
    this.destroy();
    this.hash?.discard();
  }
}
