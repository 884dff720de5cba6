import { CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { BlobReferences } from '../src/common/blob-store/blob-references.js';
import { BlobStore } from '../src/common/blob-store/blob-store.js';
import { BlobSweepService } from '../src/common/blob-store/blob-sweep.service.js';
import { type S3BlobStore } from '../src/common/blob-store/s3-blob-store.js';
import { startMultipartS3 as startS3 } from './support/s3-multipart.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const binary = (res: request.Response, cb: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
};

/**
 * A whole second after now, once it has passed. S3 listings give LastModified to the second
 * (s3rver truncates mtimes): whatever is written before the boundary shows as older than it,
 * whatever is written after shows as at least it.
 */
async function nextSecond(): Promise<Date> {
  const boundary = Math.ceil((Date.now() + 1) / 1000) * 1000;
  await sleep(boundary - Date.now() + 50);
  return new Date(boundary);
}

describe.each(['files', 's3'] as const)('blob sweep on the %s driver', (driver) => {
  let t: TestApp;
  let s3: Awaited<ReturnType<typeof startS3>> | undefined;
  let blobs: BlobStore;
  let sweeper: BlobSweepService;
  beforeAll(async () => {
    s3 = driver === 's3' ? await startS3() : undefined;
    // No sweep of its own at start: the test runs each one.
    t = await startTestApp({
      env: { ...(s3?.env ?? {}), BLOB_SWEEP_INTERVAL_MS: '0', RATE_LIMIT_ENABLED: 'false', BACKUP_KEEP: '5' },
    });
    blobs = t.app.get(BlobStore);
    sweeper = t.app.get(BlobSweepService);
  });
  afterAll(async () => {
    await t.close();
    await s3?.stop();
  });

  const api = () => request(t.url);
  const root = () => join(t.config.dataDir, 'blobs');
  const createRecord = async (u: TestUser, bytes: Buffer, table = 'notes') =>
    (
      await api()
        .post('/api/v1/storage/records')
        .set(u.auth)
        .send({ table, blob: bytes.toString('base64'), checksum: sha(bytes) })
        .expect(201)
    ).body.id as string;
  const putBackup = async (u: TestUser, body: Buffer) =>
    (
      await api()
        .put('/api/v1/backup')
        .set(u.auth)
        .set('Content-Type', 'application/octet-stream')
        .set('X-Backup-Version', '1')
        .set('X-Backup-Timestamp', '1767225600000')
        .set('X-Backup-Checksum', sha(body))
        .send(body)
        .expect(201)
    ).body.id as string;
  const usage = async (u: TestUser) => ({
    storage: (await api().get('/api/v1/storage/usage').set(u.auth).expect(200)).body as {
      used_bytes: number;
    },
    backups: (
      (await api().get('/api/v1/backup/history').set(u.auth).expect(200)).body as Array<{
        size_bytes: number;
      }>
    )
      .map((b) => b.size_bytes)
      .reduce((a, b) => a + b, 0),
  });
  const get = async (path: string, u: TestUser) =>
    (await api().get(path).set(u.auth).buffer(true).parse(binary).expect(200)).body as Buffer;
  /** Files under the files driver's root (relative), or every key of the bucket. */
  const everything = async () => {
    const keys: string[] = [];
    for await (const b of blobs.list()) keys.push(b.key);
    return keys.sort();
  };
  const plantFile = (relative: string, bytes: Buffer) => {
    const path = join(root(), relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  };
  const startUpload = async (key: string, bytes: Buffer) => {
    const client = (blobs as S3BlobStore).client;
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: s3!.bucket, Key: key }),
    );
    await client.send(
      new UploadPartCommand({ Bucket: s3!.bucket, Key: key, UploadId, PartNumber: 1, Body: bytes }),
    );
    return UploadId!;
  };

  it('removes old orphans and leftovers, keeps young ones and every real blob; rows, bytes and quota unchanged', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const other = await newUser(t, { tier: 'pro' });

    // Real data, some of it written before the cut-off (old and referenced).
    const notes = [randomBytes(3000), randomBytes(5000), randomBytes(700)];
    const ids = [];
    for (const bytes of notes) ids.push(await createRecord(u, bytes));
    // An update without a base: the old blob becomes a conflict copy's (a key moving between tables).
    const replacement = randomBytes(1200);
    await api()
      .put(`/api/v1/storage/records/${ids[0]}`)
      .set(u.auth)
      .send({ blob: replacement.toString('base64'), checksum: sha(replacement) })
      .expect(200);
    // A records table named like the backups folder: its keys are still records'.
    const lookalike = randomBytes(900);
    const lookalikeId = await createRecord(other, lookalike, 'backups');
    const backup1 = randomBytes(300_000);
    const backup1Id = await putBackup(u, backup1);

    // Old leftovers of a crash: blobs written without their row, a cut write's temp file.
    const oldRecordOrphan = randomBytes(4096);
    const oldBackupOrphan = randomBytes(70_000);
    const oldRecordKey = `${u.id}/notes/${randomUUID()}.${randomBytes(6).toString('hex')}`;
    const oldBackupKey = `${u.id}/backups/${randomUUID()}`;
    await blobs.put(oldRecordKey, oldRecordOrphan, { checksum: sha(oldRecordOrphan) });
    await blobs.put(oldBackupKey, oldBackupOrphan, { checksum: sha(oldBackupOrphan) });
    // Not ours (no owner claims the key): never touched, however old.
    await blobs.put('unclaimed/report.bin', randomBytes(10));
    const oldTemp = randomBytes(150_000);
    const oldUpload = randomBytes(5 * 1024 * 1024);
    if (driver === 'files') {
      plantFile(`${u.id}/backups/${randomUUID()}.${randomBytes(6).toString('hex')}.tmp`, oldTemp);
      plantFile(
        `${u.id}/notes/${randomUUID()}.${randomBytes(6).toString('hex')}.sha256`,
        Buffer.from(sha(oldTemp)),
      );
    } else {
      await startUpload(`${u.id}/backups/${randomUUID()}`, oldUpload);
      await startUpload(`unclaimed/${randomUUID()}`, randomBytes(1024));
    }

    const cutoff = await nextSecond();

    // Young: a write in flight (its row not committed yet) and a temp file being written.
    const youngOrphan = randomBytes(2048);
    const youngKey = `${u.id}/notes/${randomUUID()}.${randomBytes(6).toString('hex')}`;
    await blobs.put(youngKey, youngOrphan);
    const youngTemp = `${u.id}/backups/${randomUUID()}.${randomBytes(6).toString('hex')}.tmp`;
    if (driver === 'files') plantFile(youngTemp, randomBytes(1000));
    else await startUpload(`${u.id}/backups/${randomUUID()}`, randomBytes(5 * 1024 * 1024));
    // And real data written after the cut-off.
    const late = randomBytes(640);
    const lateId = await createRecord(u, late);
    const backup2 = randomBytes(200_000);
    const backup2Id = await putBackup(u, backup2);

    const before = { u: await usage(u), other: await usage(other) };
    const keysBefore = await everything();
    const uploadsBefore = s3?.uploads().length;

    const report = await sweeper.sweep({ olderThan: cutoff });

    const expected: Record<string, { count: number; bytes: number }> = {
      record: { count: 1, bytes: oldRecordOrphan.length },
      backup: { count: 1, bytes: oldBackupOrphan.length },
      ...(driver === 'files'
        ? { temp_file: { count: 1, bytes: oldTemp.length }, checksum_file: { count: 1, bytes: 64 } }
        : { multipart_upload: { count: 1, bytes: oldUpload.length } }),
    };
    expect(report).toMatchObject({ removed: expected, failed: 0 });
    expect(report!.kept).toMatchObject({
      young: 3, // the in-flight blob, the late record, the late backup
      unclaimed: driver === 'files' ? 1 : 2,
      unfinished_young: 1,
    });

    // Exactly the old orphans left the store.
    const keysAfter = await everything();
    expect(keysBefore.filter((k) => !keysAfter.includes(k)).sort()).toEqual(
      [oldBackupKey, oldRecordKey].sort(),
    );
    expect(await blobs.get(youngKey)).not.toBeNull();
    expect(keysAfter).toContain('unclaimed/report.bin');
    if (driver === 'files') {
      const leftovers = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory()
            ? leftovers(join(dir, e.name))
            : e.name.endsWith('.tmp') ||
                (e.name.endsWith('.sha256') && !existsSync(join(dir, e.name.slice(0, -'.sha256'.length))))
              ? [join(dir, e.name).slice(root().length + 1)]
              : [],
        );
      expect(leftovers(root())).toEqual([youngTemp]);
      expect(statSync(join(root(), youngTemp)).size).toBe(1000);
    } else {
      expect(s3!.uploads().length).toBe(uploadsBefore! - 1);
    }

    // Every record, conflict copy and backup reads back with its bytes; usage is what it was.
    expect((await get(`/api/v1/storage/records/${ids[0]}`, u)).equals(replacement)).toBe(true);
    expect((await get(`/api/v1/storage/records/${ids[1]}`, u)).equals(notes[1])).toBe(true);
    expect((await get(`/api/v1/storage/records/${ids[2]}`, u)).equals(notes[2])).toBe(true);
    expect((await get(`/api/v1/storage/records/${lateId}`, u)).equals(late)).toBe(true);
    expect((await get(`/api/v1/storage/records/${lookalikeId}`, other)).equals(lookalike)).toBe(true);
    const conflicts = (await api().get('/api/v1/storage/conflicts').set(u.auth).expect(200)).body as {
      conflicts: Array<{ id: string }>;
    };
    expect(conflicts.conflicts).toHaveLength(1);
    expect(
      (await get(`/api/v1/storage/conflicts/${conflicts.conflicts[0].id}/blob`, u)).equals(notes[0]),
    ).toBe(true);
    expect((await get(`/api/v1/backup/${backup1Id}`, u)).equals(backup1)).toBe(true);
    expect((await get(`/api/v1/backup/${backup2Id}`, u)).equals(backup2)).toBe(true);
    expect({ u: await usage(u), other: await usage(other) }).toEqual(before);

    // One log line with counts and bytes per kind, and nothing that names a user or a key.
    const line = t.logs.lines.filter((l) => l.context === 'BlobSweep').pop()!;
    expect(line).toMatchObject({ level: 'info', removed: expected, failed: 0, driver });
    expect(String(line.msg)).toContain(`1 record (${oldRecordOrphan.length} bytes)`);
    const logged = JSON.stringify(line);
    for (const secret of [u.id, other.id, oldRecordKey, youngKey]) expect(logged).not.toContain(secret);

    // Nothing left to do: a second sweep removes nothing.
    const again = await sweeper.sweep({ olderThan: cutoff });
    expect(again!.removed).toEqual({});
  });

  it('with the default grace (6 h) leaves a fresh orphan alone', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const key = `${u.id}/notes/${randomUUID()}.${randomBytes(6).toString('hex')}`;
    await blobs.put(key, randomBytes(100));
    const report = await sweeper.sweep();
    expect(report!.removed).toEqual({});
    expect(await blobs.get(key)).not.toBeNull();
    await blobs.delete(key);
  });

  it('a sweep asked for while one runs is declined, and the running one completes', async () => {
    const [first, second] = await Promise.all([sweeper.sweep(), sweeper.sweep()]);
    expect(first).not.toBeNull();
    expect(second).toBeNull();
  });

  it('asks the module that claims a key, about its own keys only, and follows its answer', async () => {
    const probeKeys = ['probe/kept.bin', 'probe/gone.bin', 'probe/failing.bin'];
    for (const key of probeKeys) await blobs.put(key, randomBytes(32));
    const asked: string[][] = [];
    let failing = false;
    const probe = new (class extends BlobReferences {
      readonly kind = 'probe';
      readonly pattern = /^probe\/[a-z]+\.bin$/;
      referenced(keys: string[]): Promise<Set<string>> {
        asked.push([...keys].sort());
        if (failing) return Promise.reject(new Error('the probe module cannot answer'));
        return Promise.resolve(new Set(keys.filter((key) => key !== 'probe/gone.bin')));
      }
    })();
    const unregister = sweeper.register(probe);
    try {
      const cutoff = await nextSecond();
      const report = await sweeper.sweep({ olderThan: cutoff });
      // Asked once, with exactly its keys (none of the records' or backups'); only what it disowned went.
      expect(asked).toEqual([probeKeys.slice().sort()]);
      expect(report!.removed.probe).toEqual({ count: 1, bytes: 32 });
      expect(await blobs.get('probe/gone.bin')).toBeNull();
      expect(await blobs.get('probe/kept.bin')).not.toBeNull();

      // A module that cannot answer stops the sweep: nothing of its keys is removed.
      failing = true;
      await expect(sweeper.sweep({ olderThan: cutoff })).rejects.toThrow('the probe module cannot answer');
      expect(await blobs.get('probe/failing.bin')).not.toBeNull();
    } finally {
      unregister();
      for (const key of probeKeys) await blobs.delete(key);
    }
    // Unregistered, its keys are nobody's: never touched.
    await blobs.put('probe/alone.bin', randomBytes(8));
    const after = await sweeper.sweep({ olderThan: await nextSecond() });
    expect(after!.removed.probe).toBeUndefined();
    expect(await blobs.get('probe/alone.bin')).not.toBeNull();
    await blobs.delete('probe/alone.bin');
  });

  it('lists page by page', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const keys = Array.from(
      { length: 7 },
      () => `${u.id}/pages/${randomUUID()}.${randomBytes(6).toString('hex')}`,
    );
    // Stores keep whole seconds: the writes come after this moment, on the same clock.
    const beforeWrites = Math.floor(Date.now() / 1000) * 1000;
    for (const key of keys) await blobs.put(key, randomBytes(10));
    const listed: string[] = [];
    for await (const b of blobs.list(`${u.id}/`, { pageSize: 2 })) {
      expect(b.size).toBe(10);
      expect(b.lastModified.getTime()).toBeGreaterThanOrEqual(beforeWrites);
      expect(b.lastModified.getTime()).toBeLessThanOrEqual(Date.now());
      listed.push(b.key);
    }
    expect(listed.sort()).toEqual(keys.sort());
    for (const key of keys) await blobs.delete(key);
  });

  const onServer = process.env.DATABASE_URL ? it : it.skip;
  onServer(
    `one instance sweeps at a time (advisory lock)${process.env.DATABASE_URL ? '' : ' (skipped: needs DATABASE_URL: the lock is taken on a server pool; the embedded database has one owner)'}`,
    async () => {
      const other = new Client({ connectionString: t.db.url });
      await other.connect();
      try {
        // Another instance holds the sweep's lock.
        await other.query('SELECT pg_advisory_lock(727401021)');
        expect(await sweeper.sweep()).toBeNull();
        expect(t.logs.text).toContain('another instance is sweeping');
        await other.query('SELECT pg_advisory_unlock(727401021)');
        expect(await sweeper.sweep()).not.toBeNull();
      } finally {
        await other.end();
      }
    },
  );
});
