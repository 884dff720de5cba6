import { createHash } from 'node:crypto';
import { PassThrough, Readable, Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import type { AccountArchive } from '../../common/account-data/account-data.js';

/** One file of the archive as the manifest lists it. */
export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}

/**
 * The export archive: one zip streamed out of `output` as participants add
 * files, each hashed on its way in. Nothing is held whole: a file is read by
 * the zip writer only as fast as the blob store takes the output, and
 * `addFile` resolves once its file has gone through, so the next one is
 * opened only then. `finish` adds account.json and manifest.json (every other
 * file with its size and SHA-256) and ends the zip.
 */
export class ZipAccountArchive implements AccountArchive {
  readonly output: Readable;
  private readonly zip = new ZipFile();
  private readonly manifest: ManifestEntry[] = [];
  private readonly sections: Record<string, unknown> = {};
  private abortWith?: (err: Error) => void;
  private readonly aborted = new Promise<never>((_resolve, reject) => (this.abortWith = reject));

  constructor(readonly includeBackups: boolean) {
    this.aborted.catch(() => undefined);
    this.output = (this.zip.outputStream as Readable).pipe(new PassThrough());
  }

  async addFile(path: string, content: Readable | Buffer | string): Promise<void> {
    const source =
      typeof content === 'string' || Buffer.isBuffer(content)
        ? Readable.from([Buffer.from(content)])
        : content;
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    source.once('error', (err) => tap.destroy(err));
    source.pipe(tap);
    // Encrypted blobs do not compress: stored as they are.
    this.zip.addReadStream(tap, path, { compress: !path.endsWith('.bin') });
    await Promise.race([finished(tap), this.aborted]);
    this.manifest.push({ path, size, sha256: hash.digest('hex') });
  }

  addJson(path: string, value: unknown): Promise<void> {
    return this.addFile(path, `${JSON.stringify(value, null, 2)}\n`);
  }

  addAccountSection(name: string, value: unknown): void {
    this.sections[name] = value;
  }

  /** account.json, then the manifest, and the end of the zip. */
  async finish(meta: Record<string, unknown>): Promise<void> {
    await this.addJson('account.json', this.sections);
    const files = [...this.manifest];
    await this.addJson('manifest.json', { ...meta, algorithm: 'sha256', files });
    this.zip.end();
  }

  /** The upload failed: every pending addFile rejects, and the zip stops. */
  abort(err: Error): void {
    this.abortWith?.(err);
    this.output.destroy(err);
  }
}
