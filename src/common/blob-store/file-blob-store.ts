import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, open, opendir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  assertValidKey,
  BlobStore,
  type ByteRange,
  type BlobHead,
  type ListedBlob,
  type PutOptions,
  type StoredBlob,
  type UnfinishedWrite,
} from './blob-store.js';
import { sha256InWorker } from '../hashing/sha256-in-worker.js';

const WRITE_BUFFER = 4 * 1024 * 1024;
const READ_BUFFER = 1024 * 1024;
const SYNC_EVERY = 64 * 1024 * 1024;

/**
 * Blobs as files under a root (the embedded default: DATA_DIR/blobs). A put
 * writes a temp file, fsyncs it and renames it into place, so a crash leaves
 * either the old object or the new one, never a torn one. The checksum sits
 * in a `.sha256` file beside the object, written the same way.
 */
export class FileBlobStore extends BlobStore {
  readonly driver = 'files' as const;

  /** Directory flushes after renames, shared by the puts into one directory (see DirectorySync). */
  private readonly directories = new DirectorySync();

  constructor(private readonly root: string) {
    super();
  }

  private path(key: string): string {
    assertValidKey(key);
    return join(this.root, ...key.split('/'));
  }

  async put(
    key: string,
    body: Readable | Buffer,
    options: PutOptions = {},
  ): Promise<{ size: number; parts: number }> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    if (Buffer.isBuffer(body)) return this.putBuffer(target, body, options.checksum);
    const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    let size: number;
    try {
      size = await writeSynced(Buffer.isBuffer(body) ? Readable.from([body]) : body, tmp);
      if (options.checksum) await atomicWrite(`${target}.sha256`, options.checksum);
      else await rm(`${target}.sha256`, { force: true });
      await rename(tmp, target);
      await this.directories.sync(dirname(target));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return { size, parts: 1 };
  }

  /**
   * An object already in memory (a record, a vector's blob): the object and its
   * checksum each written and flushed in one call, side by side, then renamed
   * into place (checksum first, as a streamed put) and the directory flushed.
   * Small writes are bound by the thread pool's flushes, not by bytes: this is
   * two file flushes and a shared directory flush where the streamed path takes
   * three flushes and twice the file operations.
   */
  private async putBuffer(
    target: string,
    bytes: Buffer,
    checksum: string | undefined,
  ): Promise<{ size: number; parts: number }> {
    const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    const checksumTmp = checksum && `${target}${SHA256}.${randomBytes(6).toString('hex')}.tmp`;
    const synced = { flag: 'wx', mode: 0o600, flush: true } as const;
    try {
      await Promise.all([
        writeFile(tmp, bytes, synced),
        checksumTmp ? writeFile(checksumTmp, checksum, synced) : rm(`${target}${SHA256}`, { force: true }),
      ]);
      if (checksumTmp) await rename(checksumTmp, `${target}${SHA256}`);
      await rename(tmp, target);
      await this.directories.sync(dirname(target));
    } catch (err) {
      await Promise.all([rm(tmp, { force: true }), checksumTmp && rm(checksumTmp, { force: true })]);
      throw err;
    }
    return { size: bytes.length, parts: 1 };
  }

  async get(key: string, range?: ByteRange): Promise<StoredBlob | null> {
    const file = this.path(key);
    try {
      const { size } = await stat(file);
      const checksum = await readFile(`${file}.sha256`, 'utf8').catch(() => undefined);
      return {
        // 1 MiB reads: a fraction of the syscalls and socket writes of the 64 KiB default for a large object.
        stream: createReadStream(file, {
          highWaterMark: READ_BUFFER,
          ...(range ? { start: range.start, end: range.end } : {}),
        }),
        size,
        checksum: checksum?.trim(),
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.path(key);
    await rm(file, { force: true });
    await rm(`${file}.sha256`, { force: true });
  }

  async ping(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await stat(this.root);
  }

  async *list(prefix = ''): AsyncIterable<ListedBlob> {
    // Walk only the directory the prefix's whole segments name; its last, partial segment filters.
    const segments = prefix.split('/');
    segments.pop();
    if (segments.some((s) => s === '' || s === '.' || s === '..')) return;
    for await (const file of this.walk(segments.join('/'))) {
      if (!file.key.startsWith(prefix) || isBookkeeping(file.key)) continue;
      const info = await lstat(join(this.root, file.key)).catch(ignoreMissing);
      if (info?.isFile()) yield { key: file.key, size: info.size, lastModified: info.mtime };
    }
  }

  /**
   * A direct upload stages its bytes in `{object}.upload` beside the object: parts and ranges
   * are written at their offsets (positional writes, so parts may arrive in any order and a cut
   * one is simply written again), and finishing renames the file into place.
   */
  async beginDirectUpload(key: string): Promise<null> {
    const staging = `${this.path(key)}${UPLOAD}`;
    await mkdir(dirname(staging), { recursive: true });
    await (await open(staging, 'a', 0o600)).close();
    return null;
  }

  override async writeStaged(key: string, offset: number, body: Readable, length: number): Promise<number> {
    const staging = `${this.path(key)}${UPLOAD}`;
    const limit = new LengthLimit(length);
    // r+: the staging file must exist (an aborted or finished upload takes no more bytes).
    const file = await open(staging, 'r+');
    await pipeline(
      body,
      limit,
      createWriteStream(staging, { fd: file, start: offset, highWaterMark: WRITE_BUFFER }),
    );
    return limit.bytes;
  }

  async finishDirectUpload(key: string): Promise<void> {
    const target = this.path(key);
    const staging = `${target}${UPLOAD}`;
    await fsyncFile(staging);
    await rename(staging, target);
    await fsyncFile(dirname(target));
  }

  async abortDirectUpload(key: string): Promise<void> {
    await rm(`${this.path(key)}${UPLOAD}`, { force: true });
    await this.delete(key);
  }

  async head(key: string): Promise<BlobHead | null> {
    const info = await stat(this.path(key)).catch(ignoreMissing);
    return info ? { size: info.size } : null;
  }

  sha256Of(key: string): Promise<string> {
    return sha256InWorker({ path: this.path(key) });
  }

  async *listUnfinished(): AsyncIterable<UnfinishedWrite> {
    for await (const file of this.walk('')) {
      if (file.key.endsWith(UPLOAD)) {
        const info = await lstat(join(this.root, file.key)).catch(ignoreMissing);
        const key = file.key.slice(0, -UPLOAD.length);
        if (info?.isFile())
          yield { kind: 'staged_upload', ref: file.key, key, size: info.size, lastActivity: info.mtime };
        continue;
      }
      const kind = file.key.endsWith(TMP)
        ? 'temp_file'
        : file.key.endsWith(SHA256) && !(await this.exists(file.key.slice(0, -SHA256.length)))
          ? 'checksum_file'
          : undefined;
      if (!kind) continue;
      const info = await lstat(join(this.root, file.key)).catch(ignoreMissing);
      if (info?.isFile()) yield { kind, ref: file.key, size: info.size, lastActivity: info.mtime };
    }
  }

  async removeUnfinished(write: UnfinishedWrite): Promise<void> {
    const ref = write.ref;
    if (ref.split('/').some((s) => s === '' || s === '.' || s === '..') || !isBookkeeping(ref)) {
      throw new Error(`Not a leftover of this store: ${JSON.stringify(ref)}`);
    }
    // A checksum file whose object has arrived since it was listed is no leftover any more.
    if (write.kind === 'checksum_file' && (await this.exists(ref.slice(0, -SHA256.length)))) return;
    await rm(join(this.root, ref), { force: true });
  }

  private async exists(relative: string): Promise<boolean> {
    return (await lstat(join(this.root, relative)).catch(ignoreMissing)) !== undefined;
  }

  /**
   * Every regular file under `dir` (relative to the root), depth first. Directory entries are
   * read a few at a time (opendir), so a directory of a million blobs is never held whole; a
   * directory removed while it is walked is skipped.
   */
  private async *walk(dir: string): AsyncGenerator<{ key: string }> {
    const handle = await opendir(join(this.root, dir)).catch(ignoreMissing);
    if (!handle) return;
    for await (const entry of handle) {
      const key = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) yield* this.walk(key);
      else if (entry.isFile()) yield { key };
    }
  }
}

const TMP = '.tmp';
const SHA256 = '.sha256';
const UPLOAD = '.upload';
/** Temp files, checksum files and staged uploads sit beside the objects; they are not objects themselves. */
const isBookkeeping = (name: string) => name.endsWith(TMP) || name.endsWith(SHA256) || name.endsWith(UPLOAD);

/** Passes at most `max` bytes; one more fails the stream (a body longer than it said). */
class LengthLimit extends Transform {
  bytes = 0;

  constructor(private readonly max: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max)
      return done(new Error(`The body is longer than the ${this.max} bytes announced`));
    done(null, chunk);
  }
}

/** A path removed (or never there) while a listing runs is simply not listed. */
function ignoreMissing(err: unknown): undefined {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
  throw err;
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * fsyncs of directories (after a rename into them), shared. A caller needs a
 * flush that began after its rename: if none is running it starts one; if one
 * is running (it may have begun before the rename) it waits for the next,
 * which starts when that one ends and serves everyone who asked meanwhile.
 * Concurrent puts into one directory (one user's records) so share flushes
 * instead of queueing one each on the thread pool.
 */
class DirectorySync {
  private readonly flushes = new Map<string, { running: Promise<void>; next?: Promise<void> }>();

  sync(dir: string): Promise<void> {
    const flush = this.flushes.get(dir);
    if (!flush) return this.start(dir);
    flush.next ??= flush.running.then(
      () => this.start(dir),
      () => this.start(dir),
    );
    return flush.next;
  }

  private start(dir: string): Promise<void> {
    const running: Promise<void> = fsyncFile(dir).finally(() => {
      const flush = this.flushes.get(dir);
      if (flush?.running === running && !flush.next) this.flushes.delete(dir);
    });
    this.flushes.set(dir, { running });
    return running;
  }
}

async function atomicWrite(path: string, content: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode: 0o600 });
  await fsyncFile(tmp);
  await rename(tmp, path);
}

/**
 * Writes `source` to the new file `path` and syncs it; answers the bytes
 * written. A second descriptor flushes what is written so far every
 * SYNC_EVERY bytes, on the thread pool while the upload goes on, so the
 * final fsync of a large object has little left to do.
 */
async function writeSynced(source: Readable, path: string): Promise<number> {
  const file = await open(path, 'wx', 0o600);
  const flusher = await open(path, 'r').catch(async (err: unknown) => {
    await file.close();
    throw err;
  });
  let size = 0;
  let flushing: Promise<void> | undefined;
  let flushedAt = 0;
  source.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (flushing || size - flushedAt < SYNC_EVERY) return;
    const at = size;
    flushing = flusher.datasync().then(
      () => void ((flushedAt = at), (flushing = undefined)),
      () => void (flushing = undefined),
    );
  });
  try {
    // Several chunks per write (writev) when the source is ahead of the disk.
    await pipeline(source, createWriteStream(path, { fd: file, highWaterMark: WRITE_BUFFER }));
    await flushing;
    await flusher.sync();
  } finally {
    await flushing;
    await flusher.close();
  }
  return size;
}
