import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { BlobStore } from '../src/common/blob-store/blob-store.js';
import { startLocalS3, type LocalS3 } from './support/s3.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const binary = (res: request.Response, cb: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
};

describe.each(['files', 's3'] as const)('encrypted backups on the %s blob driver', (driver) => {
  let t: TestApp;
  let s3: LocalS3 | undefined;
  let db: DataSource;
  beforeAll(async () => {
    s3 = driver === 's3' ? await startLocalS3() : undefined;
    t = await startTestApp({ env: { ...(s3?.env ?? {}), BACKUP_KEEP: '3', RATE_LIMIT_ENABLED: 'false' } });
    db = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t.close();
    await s3?.stop();
  });

  const api = () => request(t.url);
  const put = (u: TestUser, body: Buffer, headers: Record<string, string> = {}) =>
    api()
      .put('/api/v1/backup')
      .set(u.auth)
      .set('Content-Type', 'application/octet-stream')
      .set('X-Backup-Version', '3')
      .set('X-Backup-Timestamp', '1767225600000')
      .set('X-Backup-Checksum', sha(body))
      .set(headers)
      .send(body);
  /** A PUT /backup on a raw socket, for what supertest cannot do: chunked bodies, hanging up midway. */
  const rawPut = (u: TestUser, headers: Record<string, string>) => {
    const url = new URL(`${t.url}/api/v1/backup`);
    return httpRequest({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'PUT',
      headers: {
        ...u.auth,
        'Content-Type': 'application/octet-stream',
        'X-Backup-Version': '1',
        'X-Backup-Timestamp': '1',
        ...headers,
      },
    });
  };
  const rows = async (u: TestUser) =>
    db.query<Array<{ blob_key: string }>>('SELECT blob_key FROM backups WHERE user_id = $1', [u.id]);

  it('round-trips bytes and headers; history lists it without bytes', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const body = randomBytes(300_000);
    const created = await put(u, body).expect(201);
    expect(created.body).toEqual({
      ok: true,
      id: expect.any(String),
      size_bytes: 300_000,
      created_at: expect.any(Number),
    });

    const got = await api().get('/api/v1/backup').set(u.auth).buffer(true).parse(binary).expect(200);
    expect((got.body as Buffer).equals(body)).toBe(true);
    expect(got.headers).toMatchObject({
      'x-backup-version': '3',
      'x-backup-timestamp': '1767225600000',
      'x-backup-checksum': sha(body),
      'content-length': '300000',
      'accept-ranges': 'bytes',
    });
    expect(Date.parse(got.headers['last-modified'])).toBeGreaterThan(0);

    const history = await api().get('/api/v1/backup/history').set(u.auth).expect(200);
    expect(history.body).toEqual([
      {
        id: created.body.id,
        version: 3,
        timestamp: 1767225600000,
        checksum: sha(body),
        chunk_count: 1,
        size_bytes: 300_000,
        created_at: created.body.created_at,
      },
    ]);
    const one = await api()
      .get(`/api/v1/backup/${created.body.id}`)
      .set(u.auth)
      .buffer(true)
      .parse(binary)
      .expect(200);
    expect((one.body as Buffer).equals(body)).toBe(true);
  });

  it('stores a backup larger than one S3 part (multipart) and gives the same bytes back', async () => {
    // 20 MiB: past the single-PUT size and over two 8 MiB parts on S3.
    const u = await newUser(t, { tier: 'pro' });
    const body = randomBytes(20 * 1024 * 1024);
    const created = await put(u, body).expect(201);
    expect(created.body).toMatchObject({ ok: true, size_bytes: body.length });
    const history = await api().get('/api/v1/backup/history').set(u.auth).expect(200);
    expect(history.body).toEqual([
      expect.objectContaining({ id: created.body.id, chunk_count: driver === 's3' ? 3 : 1 }),
    ]);
    const got = await api().get('/api/v1/backup').set(u.auth).buffer(true).parse(binary).expect(200);
    expect(sha(got.body as Buffer)).toBe(sha(body));
  });

  it('answers 304 to If-Modified-Since not older than the backup, and 404 before any backup', async () => {
    const u = await newUser(t, { tier: 'pro' });
    await api().get('/api/v1/backup').set(u.auth).expect(404);
    await put(u, randomBytes(100)).expect(201);
    const first = await api().get('/api/v1/backup').set(u.auth).expect(200);
    const lastModified = first.headers['last-modified'];
    await api().get('/api/v1/backup').set(u.auth).set('If-Modified-Since', lastModified).expect(304);
    const older = new Date(Date.parse(lastModified) - 60_000).toUTCString();
    await api().get('/api/v1/backup').set(u.auth).set('If-Modified-Since', older).expect(200);
  });

  it('serves Range requests with 206 so a client can resume, and 416 past the end', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const body = randomBytes(10_000);
    await put(u, body).expect(201);
    const part = await api()
      .get('/api/v1/backup')
      .set(u.auth)
      .set('Range', 'bytes=1000-1999')
      .buffer(true)
      .parse(binary)
      .expect(206);
    expect(part.headers['content-range']).toBe('bytes 1000-1999/10000');
    expect((part.body as Buffer).equals(body.subarray(1000, 2000))).toBe(true);
    const tail = await api()
      .get('/api/v1/backup')
      .set(u.auth)
      .set('Range', 'bytes=9000-')
      .buffer(true)
      .parse(binary)
      .expect(206);
    expect((tail.body as Buffer).equals(body.subarray(9000))).toBe(true);
    await api().get('/api/v1/backup').set(u.auth).set('Range', 'bytes=20000-').expect(416);
  });

  it('deletes with an audit entry; another user’s id is 404 for every verb', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const other = await newUser(t, { tier: 'pro' });
    const id = (await put(u, randomBytes(50)).expect(201)).body.id as string;
    await api().get(`/api/v1/backup/${id}`).set(other.auth).expect(404);
    await api().delete(`/api/v1/backup/${id}`).set(other.auth).expect(404);
    await api().delete(`/api/v1/backup/${randomUUID()}`).set(u.auth).expect(404);
    const [{ blob_key: key }] = await rows(u);
    await api().delete(`/api/v1/backup/${id}`).set(u.auth).expect(200, { ok: true });
    expect(await rows(u)).toHaveLength(0);
    expect(await t.app.get(BlobStore).get(key)).toBeNull();
    const audit = await db.query(
      `SELECT actor_id FROM audit_log WHERE event_type = 'backup.deleted' AND subject_id = $1`,
      [id],
    );
    expect(audit).toEqual([{ actor_id: u.id }]);
  });

  it('answers 402 on free and 400 for missing or malformed headers, storing nothing', async () => {
    const free = await newUser(t);
    const res = await put(free, randomBytes(10)).expect(402);
    expect(res.body.message).toBe(
      'Backups are not included in the free tier; they need the pro tier or higher',
    );
    const u = await newUser(t, { tier: 'pro' });
    const bad = await api()
      .put('/api/v1/backup')
      .set(u.auth)
      .set('Content-Type', 'application/octet-stream')
      .set('X-Backup-Version', 'x')
      .send(randomBytes(10))
      .expect(400);
    expect(bad.body.message).toEqual([
      'X-Backup-Version must be a non-negative integer',
      'X-Backup-Timestamp must be an integer (ms since epoch)',
      'X-Backup-Checksum must be the lowercase hex SHA-256 of the body',
    ]);
    expect(await rows(u)).toHaveLength(0);
  });

  it('refuses a checksum mismatch with 400 and leaves no object, no row, and the previous backup intact', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const good = randomBytes(2000);
    await put(u, good).expect(201);
    const res = await put(u, randomBytes(2000), {
      'X-Backup-Checksum': sha(Buffer.from('something else')),
    }).expect(400);
    expect(res.body.message).toBe('X-Backup-Checksum does not match the SHA-256 of the body');
    expect(await rows(u)).toHaveLength(1);
    const latest = await api().get('/api/v1/backup').set(u.auth).buffer(true).parse(binary).expect(200);
    expect((latest.body as Buffer).equals(good)).toBe(true);
    if (driver === 'files') {
      const { readdirSync } = await import('node:fs');
      const { join } = await import('node:path');
      expect(readdirSync(join(t.config.dataDir, 'blobs', u.id, 'backups'))).toHaveLength(2); // one object + its .sha256
    }
  });

  describe('quota (pro: 5 GiB)', () => {
    const quota = 5 * 1024 ** 3;
    /** Pretend the user already stores `used` bytes of backups. */
    const fill = async (u: TestUser, used: number) =>
      db.query(
        `INSERT INTO backups (id, user_id, blob_key, version, timestamp, checksum, size_bytes, chunk_count)
         VALUES ($1, $2, $3, 1, 0, $4, $5, 1)`,
        [randomUUID(), u.id, `${u.id}/backups/placeholder`, '0'.repeat(64), used],
      );

    it('refuses with 402 quota_exceeded before reading when Content-Length would pass it', async () => {
      const u = await newUser(t, { tier: 'pro' });
      await fill(u, quota - 1000);
      const res = await put(u, randomBytes(2000)).expect(402);
      expect(res.body.code).toBe('quota_exceeded');
      expect(res.body.message).toMatch(/^Backup quota exceeded/);
      expect(await rows(u)).toHaveLength(1);
    });

    it('stops a chunked upload (no Content-Length) with 402 as soon as it would pass it', async () => {
      const u = await newUser(t, { tier: 'pro' });
      await fill(u, quota - 100_000);
      const body = randomBytes(300_000);
      const status = await new Promise<number>((resolve, reject) => {
        const req = rawPut(u, { 'Transfer-Encoding': 'chunked', 'X-Backup-Checksum': sha(body) });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        for (let i = 0; i < body.length; i += 50_000) req.write(body.subarray(i, i + 50_000));
        req.end();
      });
      expect(status).toBe(402);
      expect(await rows(u)).toHaveLength(1);
    });

    it('lets two concurrent uploads of one user not overshoot it together', async () => {
      const u = await newUser(t, { tier: 'pro' });
      await fill(u, quota - 150_000);
      const [a, b] = await Promise.all([put(u, randomBytes(100_000)), put(u, randomBytes(100_000))]);
      expect([a.status, b.status].sort()).toEqual([201, 402]);
      const [{ used }] = await db.query(
        'SELECT sum(size_bytes)::text AS used FROM backups WHERE user_id = $1',
        [u.id],
      );
      expect(Number(used)).toBeLessThanOrEqual(quota);
    });
  });

  it('leaves nothing behind when the client disconnects mid-stream', async () => {
    const u = await newUser(t, { tier: 'pro' });
    await new Promise<void>((resolve) => {
      const req = rawPut(u, { 'Content-Length': '1000000', 'X-Backup-Checksum': '0'.repeat(64) });
      req.on('error', () => resolve());
      req.write(randomBytes(200_000));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(await rows(u)).toHaveLength(0);
    if (driver === 'files') {
      const { existsSync, readdirSync } = await import('node:fs');
      const { join } = await import('node:path');
      const dir = join(t.config.dataDir, 'blobs', u.id, 'backups');
      expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    }
  });

  it('keeps only the newest BACKUP_KEEP backups', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await put(u, randomBytes(100)).expect(201)).body.id as string);
    const history = await api().get('/api/v1/backup/history').set(u.auth).expect(200);
    expect(history.body.map((b: { id: string }) => b.id)).toEqual(ids.slice(2).reverse());
  });
});
