import { createHash, randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { withRedis } from './support/conditions.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { createTestDatabase } from './support/test-database.js';
import { newUser, type TestUser } from './support/users.js';
import { connectSocket } from './support/wait.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('storage real-time push (Socket.IO, default namespace)', () => {
  let t: TestApp;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t.close();
  });

  const connect = (token: string) => connectSocket(t.url, token, sockets);
  const next = <T>(s: Socket, event: string, ms = 3000) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
      s.once(event, (payload: T) => {
        clearTimeout(timer);
        resolve(payload);
      });
    });
  const create = (u: TestUser, bytes: Buffer) =>
    request(t.url)
      .post('/api/v1/storage/records')
      .set(u.auth)
      .send({ table: 'notes', blob: bytes.toString('base64'), checksum: sha(bytes) })
      .expect(201);

  it('pushes storage:changed to the user’s other connections, and not to another user', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const other = await newUser(t, { tier: 'pro' });
    const phone = await connect(u.tokens.access_token);
    const stranger = await connect(other.tokens.access_token);
    let strangerGot = false;
    stranger.on('storage:changed', () => (strangerGot = true));

    const pushed = next<{ id: string; table: string; version: number; op: string }>(phone, 'storage:changed');
    const id = (await create(u, randomBytes(32))).body.id as string;
    expect(await pushed).toEqual({ id, table: 'notes', version: 1, op: 'upsert' });

    const deleted = next(phone, 'storage:changed');
    await request(t.url).delete(`/api/v1/storage/records/${id}`).set(u.auth).expect(200);
    expect(await deleted).toEqual({ id, table: 'notes', version: 2, op: 'delete' });
    await new Promise((r) => setTimeout(r, 200));
    expect(strangerGot).toBe(false);
  });

  it('accepts an API key in auth.token too', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const key = (
      await request(t.url).post('/api/v1/auth/api-keys').set(u.auth).send({ name: 'sync' }).expect(201)
    ).body.key as string;
    const s = await connect(key);
    const pushed = next(s, 'storage:changed');
    await create(u, randomBytes(8));
    await expect(pushed).resolves.toMatchObject({ op: 'upsert' });
  });

  it('sends storage:quota once when a write crosses 80 % of the quota', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const quota = 5 * 1024 ** 3;
    await t.app
      .get(DataSource)
      .query('INSERT INTO storage_usage (user_id, used_bytes) VALUES ($1, $2)', [
        u.id,
        Math.floor(quota * 0.8) - 100,
      ]);
    const s = await connect(u.tokens.access_token);
    let alerts = 0;
    s.on('storage:quota', () => alerts++);
    const alert = next<{ used_bytes: number; quota_bytes: number; percent: number }>(s, 'storage:quota');
    await create(u, randomBytes(200));
    expect(await alert).toEqual({
      used_bytes: Math.floor(quota * 0.8) + 100,
      quota_bytes: quota,
      percent: 80,
    });
    await create(u, randomBytes(200));
    await new Promise((r) => setTimeout(r, 200));
    expect(alerts).toBe(1);
  });

  it('refuses the connection with a bad, missing or revoked token', async () => {
    await expect(connect('not-a-token')).rejects.toThrow(/unauthorized/);
    await expect(connect('')).rejects.toThrow(/unauthorized/);
    const u = await newUser(t);
    await request(t.url)
      .post('/api/v1/auth/logout')
      .send({ refresh_token: u.tokens.refresh_token })
      .expect(204);
    await expect(connect(u.tokens.access_token)).rejects.toThrow(/session has ended/);
  });
});

withRedis('storage push across instances sharing Redis', () => {
  it('reaches a socket on one instance for a change committed on another', async () => {
    const db = await createTestDatabase();
    const env = { REDIS_URL: process.env.REDIS_URL!, JWT_SECRET: randomBytes(32).toString('hex') };
    const a = await startTestApp({ db, env });
    const b = await startTestApp({ db, env });
    const u = await newUser(a, { tier: 'pro' });
    const s = io(a.url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token: u.tokens.access_token },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('connect_error', reject);
      });
      const pushed = new Promise((resolve) => s.once('storage:changed', resolve));
      const bytes = randomBytes(16);
      const created = await request(b.url)
        .post('/api/v1/storage/records')
        .set(u.auth)
        .send({ table: 'notes', blob: bytes.toString('base64'), checksum: sha(bytes) })
        .expect(201);
      await expect(pushed).resolves.toEqual({
        id: created.body.id,
        table: 'notes',
        version: 1,
        op: 'upsert',
      });
    } finally {
      s.close();
      await a.close();
      await b.close();
      await db.drop();
    }
  });
});
