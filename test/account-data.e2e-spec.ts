import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import type { Socket } from 'socket.io-client';
import { DataSource } from 'typeorm';
import { BlobStore } from '../src/common/blob-store/blob-store.js';
import { tablesMentioning } from './support/database-scan.js';
import { startLocalS3, type LocalS3 } from './support/s3.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';
import { connectSocket } from './support/wait.js';
import { unzip } from './support/zip.js';

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const record = (bytes: Buffer, table = 'notes') => ({
  table,
  blob: bytes.toString('base64'),
  checksum: sha(bytes),
});

async function seed(t: TestApp, u: TestUser): Promise<{ blob: Buffer; recordId: string }> {
  const api = request(t.url);
  const blob = randomBytes(3000);
  const created = await api.post('/api/v1/storage/records').set(u.auth).send(record(blob)).expect(201);
  const vectorBlob = randomBytes(64);
  await api
    .post('/api/v1/storage/vectors/upsert')
    .set(u.auth)
    .send({ vectors: [{ id: 'v1', blob: vectorBlob.toString('base64'), checksum: sha(vectorBlob) }] })
    .expect(200);
  await api.post('/api/v1/auth/api-keys').set(u.auth).send({ name: 'laptop script' }).expect(201);
  return { blob, recordId: created.body.id as string };
}

/** The bytes behind a download link (no credentials: the link is the authorization). */
async function download(url: string): Promise<Buffer> {
  const res = await request(url)
    .get('')
    .buffer(true)
    .parse((stream, cb) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => cb(null, Buffer.concat(chunks)));
    })
    .expect(200);
  return res.body as Buffer;
}

async function waitReady(t: TestApp, u: TestUser, id: string): Promise<Record<string, unknown>> {
  for (;;) {
    const res = await request(t.url).get(`/api/v1/account/export/${id}`).set(u.auth).expect(200);
    if (res.body.status !== 'queued' && res.body.status !== 'running')
      return res.body as Record<string, unknown>;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(['files', 's3'] as const)('account export (%s driver)', (driver) => {
  let t: TestApp;
  let s3: LocalS3 | undefined;

  beforeAll(async () => {
    s3 = driver === 's3' ? await startLocalS3() : undefined;
    t = await startTestApp({
      // The archive's vectors.json needs pgvector, which CI's PostgreSQL server lacks; the erasure
      // suite (account-erasure.e2e-spec.ts) runs on whichever database is configured.
      embeddedDb: true,
      env: {
        ...(s3?.env ?? {}),
        RATE_LIMIT_ENABLED: 'false',
        BLOB_SWEEP_INTERVAL_MS: '0',
        ACCOUNT_JOBS_INTERVAL_MS: '0',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
  });

  it('writes one archive listing every file with its SHA-256, record blobs byte-identical; 404 to others', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const { blob, recordId } = await seed(t, u);
    const sockets: Socket[] = [];
    const socket = await connectSocket(t.url, u.tokens.access_token, sockets);
    const notified = new Promise((resolve) => socket.once('account:export_ready', resolve));

    const created = await request(t.url).post('/api/v1/account/export').set(u.auth).send({}).expect(202);
    expect(created.body).toMatchObject({ id: expect.any(String), status: 'queued' });
    const ready = await waitReady(t, u, created.body.id as string);
    expect(ready.status).toBe('ready');
    expect(await notified).toEqual({ id: created.body.id, expires_at: ready.expires_at });
    sockets.forEach((s) => s.disconnect());

    const zip = await request(ready.download_url as string)
      .get('')
      .buffer(true)
      .parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => cb(null, Buffer.concat(chunks)));
      })
      .expect(200);
    const body = zip.body as Buffer;
    expect(sha(body)).toBe(ready.checksum);
    const files = await unzip(body);
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as {
      files: Array<{ path: string; sha256: string; size: number }>;
    };
    expect([...files.keys()].sort()).toEqual([...manifest.files.map((f) => f.path), 'manifest.json'].sort());
    for (const file of manifest.files)
      expect({ path: file.path, sha256: sha(files.get(file.path)!) }).toEqual({
        path: file.path,
        sha256: file.sha256,
      });
    expect(files.get(`records/notes/${recordId}.bin`)!.equals(blob)).toBe(true);
    const account = JSON.parse(files.get('account.json')!.toString());
    expect(account.profile).toMatchObject({ id: u.id, email: u.email });
    expect(account.api_keys).toEqual([
      expect.objectContaining({ name: 'laptop script', prefix: expect.any(String) }),
    ]);
    expect(JSON.stringify(account)).not.toMatch(/key_hash|password/);
    expect(JSON.parse(files.get('vectors.json')!.toString())).toEqual([
      expect.objectContaining({ id: 'v1' }),
    ]);
    for (const name of [
      'usage.json',
      'purchases.json',
      'plugins.json',
      'audit.json',
      'backups/history.json',
    ]) {
      expect(files.has(name)).toBe(true);
    }

    const other = await newUser(t);
    await request(t.url).get(`/api/v1/account/export/${created.body.id}`).set(other.auth).expect(404);
  });

  it('allows three exports a day (429 after, with Retry-After)', async () => {
    const u = await newUser(t);
    for (let i = 0; i < 3; i++) {
      const created = await request(t.url).post('/api/v1/account/export').set(u.auth).send({}).expect(202);
      await waitReady(t, u, created.body.id as string);
    }
    const refused = await request(t.url).post('/api/v1/account/export').set(u.auth).send({}).expect(429);
    expect(refused.body.code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('puts the backup blobs byte-identical in backups/ with include_backups, and only the history without', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const backups = [randomBytes(5000), randomBytes(7000)];
    for (const [i, body] of backups.entries()) {
      await request(t.url)
        .put('/api/v1/backup')
        .set(u.auth)
        .set('Content-Type', 'application/octet-stream')
        .set('X-Backup-Version', String(i + 1))
        .set('X-Backup-Timestamp', String(1767225600000 + i))
        .set('X-Backup-Checksum', sha(body))
        .send(body)
        .expect(201);
    }
    const archive = async (includeBackups: boolean) => {
      const created = await request(t.url)
        .post('/api/v1/account/export')
        .set(u.auth)
        .send({ include_backups: includeBackups })
        .expect(202);
      const ready = await waitReady(t, u, created.body.id as string);
      expect(ready).toMatchObject({ status: 'ready', include_backups: includeBackups });
      return unzip(await download(ready.download_url as string));
    };

    const withBlobs = await archive(true);
    const history = JSON.parse(withBlobs.get('backups/history.json')!.toString()) as Array<{
      id: string;
      checksum: string;
      file: string | null;
    }>;
    expect(history.map((b) => b.checksum).sort()).toEqual(backups.map(sha).sort());
    const blobFiles = [...withBlobs.keys()].filter((name) => /^backups\/.+\.bin$/.test(name));
    expect(blobFiles.sort()).toEqual(history.map((b) => `backups/${b.id}.bin`).sort());
    for (const entry of history) {
      const bytes = withBlobs.get(`backups/${entry.id}.bin`)!;
      expect(backups.some((body) => body.equals(bytes))).toBe(true);
      expect(sha(bytes)).toBe(entry.checksum);
    }

    for (const entry of history) expect(entry).toMatchObject({ file: `backups/${entry.id}.bin` });

    const withoutBlobs = await archive(false);
    expect(JSON.parse(withoutBlobs.get('backups/history.json')!.toString())).toEqual(
      history.map((entry) => ({ ...entry, file: null })),
    );
    expect([...withoutBlobs.keys()].filter((name) => name.startsWith('backups/'))).toEqual([
      'backups/history.json',
    ]);
  });

  if (driver === 'files') {
    it('refuses an altered or expired download link (403)', async () => {
      const u = await newUser(t);
      const created = await request(t.url).post('/api/v1/account/export').set(u.auth).send({}).expect(202);
      const ready = await waitReady(t, u, created.body.id as string);
      const url = new URL(ready.download_url as string);
      url.searchParams.set('signature', 'A'.repeat(43));
      expect((await request(url.toString()).get('').expect(403)).body.code).toBe('link_invalid');
      url.searchParams.set('expires', String(Date.now() - 1000));
      expect((await request(url.toString()).get('').expect(403)).body.code).toBe('link_expired');
    });
  }
});

describe('account erasure', () => {
  let t: TestApp;
  let s3: LocalS3;
  let proxy: TcpProxy;
  let admin: TestUser;
  const api = () => request(t.url);

  beforeAll(async () => {
    s3 = await startLocalS3();
    proxy = await TcpProxy.to(s3.endpoint).start();
    t = await startTestApp({
      embeddedDb: true, // seeds vectors too (pgvector), as above
      env: {
        ...s3.env,
        S3_ENDPOINT_URL: `http://127.0.0.1:${proxy.port}`,
        RATE_LIMIT_ENABLED: 'false',
        BLOB_SWEEP_INTERVAL_MS: '0',
        ACCOUNT_JOBS_INTERVAL_MS: '0',
        ACCOUNT_ERASURE_RETRY_MS: '0',
      },
    });
    admin = await newUser(t, { role: 'admin' });
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.stop();
    await s3?.stop();
  });

  it('queues one export of simultaneous requests: one 202, the others 409 export_in_progress', async () => {
    const u = await newUser(t, { tier: 'pro' });
    await seed(t, u);
    // The blob store stops answering, so the export that wins stays running while the others arrive.
    proxy.hold();
    let answers: request.Response[];
    try {
      answers = await Promise.all(
        Array.from({ length: 6 }, () => api().post('/api/v1/account/export').set(u.auth).send({})),
      );
    } finally {
      proxy.release();
    }
    const statuses = answers.map((res) => res.status).sort();
    expect(statuses).toEqual([202, 409, 409, 409, 409, 409]);
    for (const refused of answers.filter((res) => res.status === 409))
      expect(refused.body.code).toBe('export_in_progress');
    const queued = answers.find((res) => res.status === 202)!;
    expect(await waitReady(t, u, queued.body.id as string)).toMatchObject({ status: 'ready' });
    const [{ n }] = await t.app
      .get(DataSource)
      .query<Array<{ n: number }>>('SELECT count(*)::int AS n FROM account_exports WHERE user_id = $1', [
        u.id,
      ]);
    expect(n).toBe(1);

    // Once it is written, the next one is accepted (the day's limit is three).
    await api().post('/api/v1/account/export').set(u.auth).send({}).expect(202);
  });

  it('disables at once (old token 401, socket cut), and restore inside the grace period brings it back', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const { recordId } = await seed(t, u);
    const sockets: Socket[] = [];
    const socket = await connectSocket(t.url, u.tokens.access_token, sockets);
    const revoked = new Promise((resolve) => socket.once('auth:revoked', resolve));

    await api().delete('/api/v1/account').set(u.auth).send({ password: 'not the password' }).expect(401);
    const deleted = await api()
      .delete('/api/v1/account')
      .set(u.auth)
      .send({ password: u.password })
      .expect(202);
    expect(deleted.body.scheduled_for).toBeGreaterThan(Date.now() + 29 * 24 * 3_600_000);
    expect(await revoked).toMatchObject({ code: 'session_ended' });
    await api().get('/api/v1/auth/me').set(u.auth).expect(401);
    await api().post('/api/v1/auth/login').send({ email: u.email, password: u.password }).expect(401);

    await api()
      .post('/api/v1/account/restore')
      .send({ email: u.email, password: 'wrong one here' })
      .expect(401);
    await api().post('/api/v1/account/restore').send({ email: u.email, password: u.password }).expect(200);
    const again = await api()
      .post('/api/v1/auth/login')
      .send({ email: u.email, password: u.password })
      .expect(200);
    await api()
      .get(`/api/v1/storage/records/${recordId}`)
      .set({ Authorization: `Bearer ${again.body.access_token}` })
      .expect(200);
    const twice = await api()
      .post('/api/v1/account/restore')
      .send({ email: u.email, password: u.password })
      .expect(409);
    expect(twice.body.code).toBe('erasure_not_pending');
    sockets.forEach((s) => s.disconnect());
  });

  it('erases everything after a blob store outage delayed it; the audit chain verifies; admin lists it', async () => {
    const u = await newUser(t, { tier: 'pro' });
    await seed(t, u);
    // A member of someone else's team, invited by email.
    const teamOwner = await newUser(t, { tier: 'team' });
    const team = await api().post('/api/v1/teams').set(teamOwner.auth).send({ name: 'Acme' }).expect(201);
    const invite = await api()
      .post(`/api/v1/teams/${team.body.id}/invites`)
      .set(teamOwner.auth)
      .send({ email: u.email, role: 'admin' })
      .expect(201);
    await api().post(`/api/v1/teams/invites/${invite.body.token}/accept`).set(u.auth).expect(200);
    const db = t.app.get(DataSource);
    const blobs = t.app.get(BlobStore);
    const deleted = await api()
      .delete('/api/v1/account')
      .set(u.auth)
      .send({ password: u.password })
      .expect(202);
    const id = deleted.body.erasure_id as string;

    await proxy.cut();
    const stopped = await api().post(`/api/v1/admin/erasures/${id}/run`).set(admin.auth).expect(200);
    expect(stopped.body).toMatchObject({
      status: 'retrying',
      last_error: expect.stringMatching(/^storage: /),
    });
    expect(stopped.body.progress).toEqual({});
    expect(JSON.stringify(stopped.body)).not.toContain(u.email);
    await proxy.restore();

    const done = await api().post(`/api/v1/admin/erasures/${id}/run`).set(admin.auth).expect(200);
    expect(done.body.last_error).toBeNull();
    expect(done.body).toMatchObject({ status: 'completed', user_id: null, attempts: 2 });
    expect(Object.keys(done.body.progress).sort()).toEqual(
      [
        'account',
        'audit',
        'auth',
        'backup',
        'billing',
        'plugin-catalog',
        'plugin-sales',
        'storage',
        'teams',
        'usage',
        'vector',
      ].sort(),
    );

    expect(await tablesMentioning(db, u.id)).toEqual([]);
    expect(await tablesMentioning(db, u.email)).toEqual([]);
    const teamAfter = await api().get(`/api/v1/teams/${team.body.id}`).set(teamOwner.auth).expect(200);
    expect(teamAfter.body).toMatchObject({ members: 1, pending_invites: 0 });
    const left: string[] = [];
    for await (const blob of blobs.list(`${u.id}/`)) left.push(blob.key);
    expect(left).toEqual([]);
    const verify = await api().get('/api/v1/admin/audit/verify').set(admin.auth).expect(200);
    expect(verify.body).toMatchObject({ ok: true, first_broken_id: null });

    const listed = await api().get('/api/v1/admin/erasures').set(admin.auth).expect(200);
    expect(listed.body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ id, status: 'completed' })]),
    );
    await api()
      .get('/api/v1/admin/erasures')
      .set((await newUser(t)).auth)
      .expect(403);
  });
});
