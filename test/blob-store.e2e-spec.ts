import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Readable } from 'node:stream';
import type { BlobStore } from '../src/common/blob-store/blob-store.js';
import { FileBlobStore } from '../src/common/blob-store/file-blob-store.js';
import { S3BlobStore } from '../src/common/blob-store/s3-blob-store.js';
import { loadConfig } from '../src/config/app-config.js';
import { startLocalS3 } from './support/s3.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * `total` bytes of pseudo-random data, produced chunk by chunk (never held whole); `onProgress`, if
 * given, is called each time another `every` bytes have been produced.
 */
function generated(
  total: number,
  chunk = 1024 * 1024,
  progress?: { every: number; onProgress: () => void },
): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let sent = 0;
  const seed = randomBytes(chunk);
  const stream = new Readable({
    read() {
      if (sent >= total) return this.push(null);
      const n = Math.min(chunk, total - sent);
      const piece = Buffer.from(seed.subarray(0, n));
      piece.writeUInt32LE(sent >>> 0, 0);
      if (progress && Math.floor((sent + n) / progress.every) > Math.floor(sent / progress.every)) {
        progress.onProgress();
      }
      sent += n;
      hash.update(piece);
      this.push(piece);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

function contract(
  name: string,
  make: () => Promise<{ store: BlobStore; close: () => Promise<void>; leftovers: () => string[] }>,
) {
  describe(`blob store contract: ${name}`, () => {
    let store: BlobStore;
    let close: () => Promise<void>;
    let leftovers: () => string[];
    beforeAll(async () => {
      ({ store, close, leftovers } = await make());
    });
    afterAll(() => close());

    it('round-trips bytes and the checksum', async () => {
      const body = randomBytes(4096);
      const put = await store.put('u1/notes/r1', body, { checksum: sha(body) });
      expect(put.size).toBe(4096);
      const got = await store.get('u1/notes/r1');
      expect(got).not.toBeNull();
      expect(got!.size).toBe(4096);
      expect(got!.checksum).toBe(sha(body));
      expect((await readAll(got!.stream)).equals(body)).toBe(true);
    });

    it('overwrites a key with the new bytes', async () => {
      await store.put('u1/notes/r2', Buffer.from('first version'));
      await store.put('u1/notes/r2', Buffer.from('second'));
      expect((await readAll((await store.get('u1/notes/r2'))!.stream)).toString()).toBe('second');
    });

    it('answers null for a missing key, and deletes idempotently', async () => {
      expect(await store.get('u1/notes/missing')).toBeNull();
      await store.put('u1/notes/r3', Buffer.from('x'));
      await store.delete('u1/notes/r3');
      expect(await store.get('u1/notes/r3')).toBeNull();
      await expect(store.delete('u1/notes/r3')).resolves.toBeUndefined();
    });

    it('refuses keys that could escape the store', async () => {
      for (const key of ['../etc/passwd', 'a/../../b', '/abs', 'a//b', '']) {
        await expect(store.put(key, Buffer.from('x'))).rejects.toThrow(/Invalid blob key/);
      }
    });

    it('leaves no object when the source stream fails midway', async () => {
      const failing = new Readable({
        read() {
          this.push(randomBytes(64 * 1024));
          setImmediate(() => this.destroy(new Error('client went away')));
        },
      });
      await expect(store.put('u1/notes/torn', failing)).rejects.toThrow();
      expect(await store.get('u1/notes/torn')).toBeNull();
      expect(leftovers()).toEqual([]);
    });

    it('streams a 128 MiB object in and out with bounded memory', async () => {
      const total = 128 * 1024 * 1024;
      const every = 8 * 1024 * 1024;
      // Live memory, not garbage: a full GC before each sample (npm test runs node with --expose-gc).
      // Samples are taken as the bytes go (every 8 MiB written and read), not on a timer, so a fast
      // driver is sampled as often as a slow one. s3rver runs in a child process, so what it
      // buffers is not counted here.
      const gc = (globalThis as { gc?: () => void }).gc;
      if (!gc) throw new Error('run under node --expose-gc (npm test does)');
      // V8 frees ArrayBuffer memory on a background thread after a collection, so a sample taken
      // right after gc() can still count buffers that are already dead (up to 86 MiB instead of 64
      // seen with the CPU busy). Sweeping on the collecting thread makes each sample exact.
      setFlagsFromString('--no-concurrent-array-buffer-sweeping');
      // Settle first: what earlier tests left behind is released over a few collections.
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      const base = process.memoryUsage();
      const samples: number[] = [];
      const sample = () => {
        gc();
        const m = process.memoryUsage();
        samples.push(m.heapUsed + m.arrayBuffers - (base.heapUsed + base.arrayBuffers));
      };
      const source = generated(total, 1024 * 1024, { every, onProgress: sample });
      const hash = createHash('sha256');
      try {
        const put = await store.put('u1/backups/big', source.stream);
        expect(put.size).toBe(total);
        const got = (await store.get('u1/backups/big'))!;
        expect(got.size).toBe(total);
        let read = 0;
        for await (const c of got.stream) {
          hash.update(c as Buffer);
          const before = read;
          read += (c as Buffer).length;
          if (Math.floor(read / every) > Math.floor(before / every)) sample();
        }
      } finally {
        setFlagsFromString('--concurrent-array-buffer-sweeping');
      }
      expect(hash.digest('hex')).toBe(source.digest());
      // 16 samples writing and 16 reading: the measurement covered the whole transfer.
      expect(samples.length).toBeGreaterThanOrEqual(32);
      const peak = Math.max(...samples);
      process.stdout.write(`${name}: peak live memory ${(peak / 1048576).toFixed(1)} MiB\n`);
      // Whole-body buffering would hold all 128 MiB; streaming holds a few parts (S3: 4 × 8 MiB in
      // flight in the multipart upload, one being filled, copies as a part is assembled: 62–71 MiB
      // in the runs here).
      expect(peak).toBeLessThan(96 * 1024 * 1024);
      await store.delete('u1/backups/big');
    }, 180_000);
  });
}

contract('files', () => {
  const root = mkdtempSync(join(tmpdir(), 'adiuva-blobs-'));
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.tmp') ? [join(dir, e.name)] : [],
    );
  return Promise.resolve({
    store: new FileBlobStore(root),
    close: () => Promise.resolve(rmSync(root, { recursive: true, force: true })),
    leftovers: () => walk(root),
  });
});

contract('s3 (s3rver)', async () => {
  const s3 = await startLocalS3();
  const config = loadConfig({ DATA_DIR: tmpdir(), ...s3.env });
  const store = new S3BlobStore(s3.bucket, config.s3);
  return {
    store,
    close: async () => {
      store.client.destroy();
      await s3.stop();
    },
    // Temp files are a files-driver matter; for S3, get() returning null above is the check.
    leftovers: () => [],
  };
});
