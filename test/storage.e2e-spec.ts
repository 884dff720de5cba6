import { createHash, randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { BlobStore } from '../src/common/blob-store/blob-store.js';
import { StorageService } from '../src/modules/storage/storage.service.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const record = (bytes: Buffer, table = 'notes') => ({
  table,
  blob: bytes.toString('base64'),
  checksum: sha(bytes),
});
const binary = (res: request.Response, cb: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
};

describe('encrypted storage', () => {
  let t: TestApp;
  let db: DataSource;
  beforeAll(async () => {
    // Rate limits are not this suite's subject (rate-limit.e2e-spec.ts); the concurrency tests would trip them.
    t = await startTestApp({
      env: { STORAGE_MAX_RECORD_BYTES: String(2 * 1024 * 1024), RATE_LIMIT_ENABLED: 'false' },
    });
    db = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  const api = () => request(t.url);
  const create = (u: TestUser, bytes: Buffer, table = 'notes') =>
    api().post('/api/v1/storage/records').set(u.auth).send(record(bytes, table));
  const usage = async (u: TestUser) =>
    (await api().get('/api/v1/storage/usage').set(u.auth).expect(200)).body;
  const blobCount = async () =>
    (await db.query('SELECT count(*)::int AS n FROM storage_records'))[0].n as number;

  it('round-trips a record: create, list (metadata only), download with X-Checksum and ETag', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const bytes = randomBytes(5000);
    const created = await create(u, bytes).expect(201);
    expect(created.body).toEqual({ id: expect.any(String), created_at: expect.any(Number), version: 1 });

    const list = await api().get('/api/v1/storage/records?table=notes').set(u.auth).expect(200);
    expect(list.body).toEqual([
      {
        id: created.body.id,
        table: 'notes',
        checksum: sha(bytes),
        size_bytes: 5000,
        version: 1,
        created_at: created.body.created_at,
        updated_at: expect.any(Number),
      },
    ]);
    expect(list.headers['x-total-count']).toBe('1');
    expect(list.headers.link).toBeUndefined();
    expect(JSON.stringify(list.body)).not.toContain(bytes.toString('base64').slice(0, 40));

    const got = await api()
      .get(`/api/v1/storage/records/${created.body.id}`)
      .set(u.auth)
      .buffer(true)
      .parse(binary)
      .expect(200);
    expect(got.headers['content-type']).toBe('application/octet-stream');
    expect(got.headers['x-checksum']).toBe(sha(bytes));
    expect(got.headers.etag).toBe('"1"');
    expect((got.body as Buffer).equals(bytes)).toBe(true);
    expect(await usage(u)).toEqual({ used_bytes: 5000, quota_bytes: 5 * 1024 ** 3, percent: 0 });
  });

  it('lists records as a plain array, paged: total in X-Total-Count, Link rel="next" while more remain', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await create(u, randomBytes(10), 'tasks').expect(201)).body.id);
    await create(u, randomBytes(10), 'notes').expect(201);

    const first = await api().get('/api/v1/storage/records?table=tasks&limit=2').set(u.auth).expect(200);
    expect(first.body.map((r: { id: string }) => r.id)).toEqual(ids.slice(0, 2));
    expect(first.headers['x-total-count']).toBe('3');
    expect(first.headers.link).toBe('</api/v1/storage/records?table=tasks&limit=2&page=2>; rel="next"');

    const next = /^<([^>]+)>; rel="next"$/.exec(first.headers.link)![1];
    const second = await api().get(next).set(u.auth).set('Origin', 'http://localhost:5173').expect(200);
    expect(second.body.map((r: { id: string }) => r.id)).toEqual(ids.slice(2));
    expect(second.headers['x-total-count']).toBe('3');
    expect(second.headers.link).toBeUndefined();
    // Browser clients may read both headers.
    expect(second.headers['access-control-expose-headers']).toMatch(/X-Total-Count.*Link/);
  });

  it('refuses a checksum mismatch, bad base64, a bad table name and an oversize blob, storing nothing', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const before = await blobCount();
    const bytes = randomBytes(100);
    const mismatch = await api()
      .post('/api/v1/storage/records')
      .set(u.auth)
      .send({ ...record(bytes), checksum: sha(Buffer.from('other')) })
      .expect(400);
    expect(mismatch.body.message).toMatch(/^checksum does not match the blob/);
    await api()
      .post('/api/v1/storage/records')
      .set(u.auth)
      .send({ ...record(bytes), blob: '***' })
      .expect(400);
    await api()
      .post('/api/v1/storage/records')
      .set(u.auth)
      .send({ ...record(bytes), table: 'Bad-Name' })
      .expect(400);
    const big = randomBytes(2 * 1024 * 1024 + 1);
    const tooBig = await create(u, big).expect(413);
    expect(tooBig.body.message).toBe(`Record blob exceeds the limit of ${2 * 1024 * 1024} bytes`);
    expect(await blobCount()).toBe(before);
    expect((await usage(u)).used_bytes).toBe(0);
  });

  it('answers 402 naming the tier needed on free, which has no cloud storage', async () => {
    const u = await newUser(t);
    const res = await create(u, randomBytes(10)).expect(402);
    expect(res.body.message).toBe(
      'Cloud storage is not included in the free tier; it needs the pro tier or higher',
    );
  });

  it('scopes every verb to the owner: another user’s id is 404 like a missing one', async () => {
    const owner = await newUser(t, { tier: 'pro' });
    const other = await newUser(t, { tier: 'pro' });
    const id = (await create(owner, randomBytes(10)).expect(201)).body.id;
    const bytes = randomBytes(10);
    for (const target of [id, randomUUID()]) {
      await api().get(`/api/v1/storage/records/${target}`).set(other.auth).expect(404);
      await api()
        .put(`/api/v1/storage/records/${target}`)
        .set(other.auth)
        .send({ blob: bytes.toString('base64'), checksum: sha(bytes) })
        .expect(404);
      await api().delete(`/api/v1/storage/records/${target}`).set(other.auth).expect(404);
    }
    await api().get('/api/v1/storage/records/not-a-uuid').set(owner.auth).expect(400);
    const othersList = await api().get('/api/v1/storage/records').set(other.auth).expect(200);
    expect(othersList.body).toEqual([]);
    expect(othersList.headers['x-total-count']).toBe('0');
    await api().get(`/api/v1/storage/records/${id}`).set(owner.auth).expect(200);
  });

  describe('versions and conflicts', () => {
    it('updates with a matching base_version or If-Match; a stale base is 409 with the current version', async () => {
      const u = await newUser(t, { tier: 'pro' });
      const v1 = randomBytes(300);
      const id = (await create(u, v1).expect(201)).body.id;
      const v2 = randomBytes(200);
      const put = await api()
        .put(`/api/v1/storage/records/${id}`)
        .set(u.auth)
        .send({ blob: v2.toString('base64'), checksum: sha(v2), base_version: 1 })
        .expect(200);
      expect(put.body).toEqual({ ok: true, version: 2, updated_at: expect.any(Number) });

      const v3 = randomBytes(100);
      const stale = await api()
        .put(`/api/v1/storage/records/${id}`)
        .set(u.auth)
        .send({ blob: v3.toString('base64'), checksum: sha(v3), base_version: 1 })
        .expect(409);
      expect(stale.body).toMatchObject({ statusCode: 409, current_version: 2, checksum: sha(v2) });
      await api()
        .put(`/api/v1/storage/records/${id}`)
        .set(u.auth)
        .set('If-Match', '"1"')
        .send({ blob: v3.toString('base64'), checksum: sha(v3) })
        .expect(409);
      await api()
        .put(`/api/v1/storage/records/${id}`)
        .set(u.auth)
        .set('If-Match', '"2"')
        .send({ blob: v3.toString('base64'), checksum: sha(v3) })
        .expect(200);
      const got = await api()
        .get(`/api/v1/storage/records/${id}`)
        .set(u.auth)
        .buffer(true)
        .parse(binary)
        .expect(200);
      expect((got.body as Buffer).equals(v3)).toBe(true);
      expect(got.headers.etag).toBe('"3"');
      // Base-matched writes replace: usage is the current size only, no conflict copies.
      expect((await usage(u)).used_bytes).toBe(100);
      expect((await api().get('/api/v1/storage/conflicts').set(u.auth).expect(200)).body.total).toBe(0);
    });

    it('without a base the write wins and the overwritten version goes to the conflict log (and counts)', async () => {
      const u = await newUser(t, { tier: 'pro' });
      const v1 = randomBytes(400);
      const id = (await create(u, v1).expect(201)).body.id;
      const v2 = randomBytes(50);
      await api()
        .put(`/api/v1/storage/records/${id}`)
        .set(u.auth)
        .send({ blob: v2.toString('base64'), checksum: sha(v2) })
        .expect(200);
      const conflicts = await api().get('/api/v1/storage/conflicts').set(u.auth).expect(200);
      expect(conflicts.body).toMatchObject({
        total: 1,
        conflicts: [{ record_id: id, table: 'notes', version: 1, checksum: sha(v1), size_bytes: 400 }],
      });
      const blob = await api()
        .get(`/api/v1/storage/conflicts/${conflicts.body.conflicts[0].id}/blob`)
        .set(u.auth)
        .buffer(true)
        .parse(binary)
        .expect(200);
      expect((blob.body as Buffer).equals(v1)).toBe(true);
      expect((await usage(u)).used_bytes).toBe(450);
      const other = await newUser(t, { tier: 'pro' });
      await api()
        .get(`/api/v1/storage/conflicts/${conflicts.body.conflicts[0].id}/blob`)
        .set(other.auth)
        .expect(404);
    });
  });

  describe('tombstones and purge', () => {
    it('delete leaves the listing, frees the quota, and the purge removes rows and blobs after 30 days', async () => {
      const u = await newUser(t, { tier: 'pro' });
      const id = (await create(u, randomBytes(700)).expect(201)).body.id;
      const [{ blob_key: key }] = await db.query('SELECT blob_key FROM storage_records WHERE id = $1', [id]);
      expect(await api().delete(`/api/v1/storage/records/${id}`).set(u.auth).expect(200)).toHaveProperty(
        'body',
        { ok: true },
      );
      await api().get(`/api/v1/storage/records/${id}`).set(u.auth).expect(404);
      await api().delete(`/api/v1/storage/records/${id}`).set(u.auth).expect(404);
      expect((await usage(u)).used_bytes).toBe(0);
      const after = await api().get('/api/v1/storage/records').set(u.auth).expect(200);
      expect(after.body).toEqual([]);
      expect(after.headers['x-total-count']).toBe('0');

      const storage = t.app.get(StorageService);
      const blobs = t.app.get(BlobStore);
      await storage.purge(new Date(Date.now() + 29 * 86400_000));
      expect(await db.query('SELECT 1 FROM storage_records WHERE id = $1', [id])).toHaveLength(1);
      expect(await blobs.get(key)).not.toBeNull();
      const purged = await storage.purge(new Date(Date.now() + 31 * 86400_000));
      expect(purged.records).toBeGreaterThanOrEqual(1);
      expect(await db.query('SELECT 1 FROM storage_records WHERE id = $1', [id])).toHaveLength(0);
      expect(await blobs.get(key)).toBeNull();
    });
  });

  describe('quota', () => {
    it('lets 20 concurrent creates against a nearly full quota never exceed it', async () => {
      const u = await newUser(t, { tier: 'pro' });
      const quota = 5 * 1024 ** 3;
      const size = 1000;
      // Nearly full: room for exactly 7 more records.
      await db.query(
        `INSERT INTO storage_usage (user_id, used_bytes) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET used_bytes = EXCLUDED.used_bytes`,
        [u.id, quota - 7 * size],
      );
      const results = await Promise.all(Array.from({ length: 20 }, () => create(u, randomBytes(size))));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(7);
      expect(statuses.filter((s) => s === 402)).toHaveLength(13);
      expect((await usage(u)).used_bytes).toBe(quota);
      const rows = await db.query('SELECT count(*)::int AS n FROM storage_records WHERE user_id = $1', [
        u.id,
      ]);
      expect(rows[0].n).toBe(7);
    });

    it('over quota after a downgrade, shrinking writes and deletes still work', async () => {
      const u = await newUser(t, { tier: 'pro' });
      const id = (await create(u, randomBytes(1000)).expect(201)).body.id;
      await db.query(`UPDATE users SET tier_override = 'free' WHERE id = $1`, [u.id]);
      await create(u, randomBytes(10)).expect(402);
      const smaller = randomBytes(10);
      await api()
        .put(`/api/v1/storage/records/${id}`)
        .set(u.auth)
        .send({ blob: smaller.toString('base64'), checksum: sha(smaller), base_version: 1 })
        .expect(200);
      await api().delete(`/api/v1/storage/records/${id}`).set(u.auth).expect(200);
      expect((await usage(u)).used_bytes).toBe(0);
    });

    it('leaves no row, no orphan blob and the usage unchanged when the transaction fails after the blob is written', async () => {
      const u = await newUser(t, { tier: 'pro' });
      await create(u, randomBytes(10)).expect(201);
      // A real failure inside the write transaction, after the blob is stored: a trigger refusing the row.
      await db.query(`CREATE OR REPLACE FUNCTION explode() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'injected failure'; END $$`);
      await db.query(`CREATE TRIGGER explode BEFORE INSERT ON storage_records FOR EACH ROW
        WHEN (NEW.table_name = 'explode') EXECUTE FUNCTION explode()`);
      try {
        await create(u, randomBytes(20), 'explode').expect(500);
      } finally {
        await db.query('DROP TRIGGER explode ON storage_records');
      }
      expect(await db.query(`SELECT 1 FROM storage_records WHERE table_name = 'explode'`)).toHaveLength(0);
      expect((await usage(u)).used_bytes).toBe(10);
      const { existsSync, readdirSync } = await import('node:fs');
      const { join } = await import('node:path');
      const dir = join(t.config.dataDir, 'blobs', u.id, 'explode');
      expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
      expect(t.app.get(BlobStore).driver).toBe('files');
    });
  });

  describe('changes feed and devices', () => {
    it('pages every change exactly once in commit order, upserts and deletes, with device positions', async () => {
      const u = await newUser(t, { tier: 'pro' });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await create(u, randomBytes(10)).expect(201)).body.id);
      await api().delete(`/api/v1/storage/records/${ids[0]}`).set(u.auth).expect(200);
      await api().put('/api/v1/storage/devices/laptop-1').set(u.auth).send({ name: 'Laptop' }).expect(200);

      const seen: Array<{ id: string; op: string; version: number }> = [];
      let cursor = '';
      for (;;) {
        const page = await api()
          .get(`/api/v1/storage/changes?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
          .set(u.auth)
          .set('X-Device-Id', 'laptop-1')
          .expect(200);
        seen.push(
          ...page.body.changes.map((c: { id: string; op: string; version: number }) => ({
            id: c.id,
            op: c.op,
            version: c.version,
          })),
        );
        cursor = page.body.next_cursor;
        if (!page.body.has_more) break;
      }
      expect(seen).toEqual([
        ...ids.map((id) => ({ id, op: 'upsert', version: 1 })),
        { id: ids[0], op: 'delete', version: 2 },
      ]);
      const again = await api().get(`/api/v1/storage/changes?cursor=${cursor}`).set(u.auth).expect(200);
      expect(again.body).toEqual({ changes: [], next_cursor: cursor, has_more: false });

      const devices = await api().get('/api/v1/storage/devices').set(u.auth).expect(200);
      expect(devices.body.devices).toEqual([
        { device_id: 'laptop-1', name: 'Laptop', last_sync_at: expect.any(Number), cursor },
      ]);
    });

    it('refuses another user’s cursor and a forged one with 400', async () => {
      const a = await newUser(t, { tier: 'pro' });
      const b = await newUser(t, { tier: 'pro' });
      await create(a, randomBytes(10)).expect(201);
      const cursor = (await api().get('/api/v1/storage/changes').set(a.auth).expect(200)).body
        .next_cursor as string;
      await api().get(`/api/v1/storage/changes?cursor=${cursor}`).set(b.auth).expect(400);
      const forged = cursor.replace(/^\d+/, '999');
      const res = await api().get(`/api/v1/storage/changes?cursor=${forged}`).set(a.auth).expect(400);
      expect(res.body.message).toMatch(/^Invalid cursor/);
      await api().get('/api/v1/storage/changes?limit=1001').set(a.auth).expect(400);
      await api().put('/api/v1/storage/devices/bad id!').set(a.auth).send({ name: 'x' }).expect(400);
    });

    it('caps the devices of an account at 100', async () => {
      const u = await newUser(t, { tier: 'pro' });
      await db.query(
        `INSERT INTO devices (user_id, device_id) SELECT $1, 'd' || g FROM generate_series(1, 100) g`,
        [u.id],
      );
      await api().put('/api/v1/storage/devices/d7').set(u.auth).send({ name: 'renamed' }).expect(200);
      const res = await api()
        .put('/api/v1/storage/devices/d101')
        .set(u.auth)
        .send({ name: 'one too many' })
        .expect(400);
      expect(res.body.message).toBe('At most 100 devices per account');
      await api().get('/api/v1/storage/changes').set(u.auth).set('X-Device-Id', 'd102').expect(400);
    });

    it('concurrent writers and a paging reader: the reader sees every change exactly once', async () => {
      const u = await newUser(t, { tier: 'team' });
      const seen = new Map<string, number>();
      let cursor = '';
      let writing = true;
      const writers = (async () => {
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            for (let i = 0; i < 10; i++) {
              const r = await create(u, randomBytes(16));
              if (r.status !== 201) throw new Error(JSON.stringify(r.body));
            }
          }),
        );
        writing = false;
      })();
      const pull = async () => {
        const page = await api()
          .get(`/api/v1/storage/changes?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
          .set(u.auth)
          .expect(200);
        for (const c of page.body.changes as Array<{ id: string }>) seen.set(c.id, (seen.get(c.id) ?? 0) + 1);
        cursor = page.body.next_cursor;
        return page.body.has_more as boolean;
      };
      while (writing) {
        await pull();
        await new Promise((r) => setTimeout(r, 50));
      }
      await writers;
      while (await pull());
      expect(seen.size).toBe(40);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
    });
  });
});
