import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertValidKey, BlobStore, type ByteRange, type PutOptions, type StoredBlob } from './blob-store.js';

const WRITE_BUFFER = 4 * 1024 * 1024;
const SYNC_EVERY = 64 * 1024 * 1024;

/**
 * Blobs as files under a root (the embedded default: DATA_DIR/blobs). A put
 * writes a temp file, fsyncs it and renames it into place, so a crash leaves
 * either the old object or the new one, never a torn one. The checksum sits
 * in a `.sha256` file beside the object, written the same way.
 */
export class FileBlobStore extends BlobStore {
  readonly driver = 'files' as const;

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
    const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    let size = 0;
    try {
      const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
      const file = await open(tmp, 'wx', 0o600);
      // A second descriptor flushes what is written so far every SYNC_EVERY bytes, on the thread
      // pool while the upload goes on, so the final fsync of a large object has little left to do.
      const flusher = await open(tmp, 'r').catch(async (err: unknown) => {
        await file.close();
        throw err;
      });
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
        await pipeline(source, createWriteStream(tmp, { fd: file, highWaterMark: WRITE_BUFFER }));
        await flushing;
        await flusher.sync();
      } finally {
        await flushing;
        await flusher.close();
      }
      if (options.checksum) await atomicWrite(`${target}.sha256`, options.checksum);
      else await rm(`${target}.sha256`, { force: true });
      await rename(tmp, target);
      await fsyncFile(dirname(target));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return { size, parts: 1 };
  }

  async get(key: string, range?: ByteRange): Promise<StoredBlob | null> {
    const file = this.path(key);
    try {
      const { size } = await stat(file);
      const checksum = await readFile(`${file}.sha256`, 'utf8').catch(() => undefined);
      return {
        stream: createReadStream(file, range ? { start: range.start, end: range.end } : {}),
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
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function atomicWrite(path: string, content: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode: 0o600 });
  await fsyncFile(tmp);
  await rename(tmp, path);
}
