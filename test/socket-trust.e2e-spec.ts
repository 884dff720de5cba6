import { createHash, randomBytes } from 'node:crypto';
import { Manager, type Socket } from 'socket.io-client';
import request from 'supertest';
import WebSocket from 'ws';
import { ConnectionsService } from '../src/common/realtime/connections.service.js';
import { AuthService } from '../src/modules/auth/auth.service.js';
import { MAX_CHAT_EVENT_BYTES } from '../src/modules/chat/dto/chat.dto.js';
import { withRedis } from './support/conditions.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { createTestDatabase } from './support/test-database.js';
import { jwtPayload, newUser, type TestUser } from './support/users.js';
import { connectSocket, until } from './support/wait.js';

/** What a connection saw when its credentials ended: the reason it was told, and that it was closed. */
interface Watched {
  revoked?: { code: string; message: string };
  disconnectReason?: string;
  /** Events in the order they came, to check the reason came before the disconnect. */
  order: string[];
}

function watch(s: Socket): Watched {
  const seen: Watched = { order: [] };
  s.on('auth:revoked', (reason: { code: string; message: string }) => {
    seen.revoked = reason;
    seen.order.push('auth:revoked');
  });
  s.on('disconnect', (reason: string) => {
    seen.disconnectReason = reason;
    seen.order.push('disconnect');
  });
  return seen;
}

interface WsSeen {
  ws: WebSocket;
  messages: string[];
  close?: { code: number; reason: string };
}

/** A plain WebSocket on /chat/stream, open (its credentials accepted) once the promise resolves. */
async function openWs(t: TestApp, token: string): Promise<WsSeen> {
  const url = `${t.url.replace('http', 'ws')}/api/v1/chat/stream?token=${encodeURIComponent(token)}`;
  const ws = new WebSocket(url);
  const seen: WsSeen = { ws, messages: [] };
  ws.on('message', (data: Buffer) => seen.messages.push(data.toString('utf8')));
  ws.on('close', (code, reason) => (seen.close = { code, reason: reason.toString() }));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return seen;
}

/** Until a WebSocket is closed, or has stayed open through a request/answer round trip (credentials checked). */
async function wsSettled(seen: WsSeen): Promise<void> {
  seen.ws.send(JSON.stringify({ resume: 'settle-check', after_seq: -1 }));
  await until(() => seen.close !== undefined || seen.messages.length > 0);
}

describe('sockets whose credentials end are cut, on every transport', () => {
  let t: TestApp;
  const sockets: Socket[] = [];
  const wss: WebSocket[] = [];
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const ws of wss) ws.terminate();
    await t.close();
  });

  const connect = (token: string, ns = '') => connectSocket(`${t.url}${ns}`, token, sockets);
  const ws = async (token: string) => {
    const seen = await openWs(t, token);
    wss.push(seen.ws);
    return seen;
  };
  const secondSession = async (u: TestUser): Promise<TestUser> => {
    const tokens = await t.app.get(AuthService).login({ email: u.email, password: u.password });
    return { ...u, tokens, auth: { Authorization: `Bearer ${tokens.access_token}` } };
  };

  it('a revoked session: its Socket.IO sockets (both namespaces) are told why and disconnected, its WebSocket closed with 4401; another session stays', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const other = await secondSession(u);
    const storage = watch(await connect(u.tokens.access_token));
    const chat = watch(await connect(u.tokens.access_token, '/chat'));
    const plain = await ws(u.tokens.access_token);
    await wsSettled(plain);
    const survivor = await connect(other.tokens.access_token);
    const survivorSeen = watch(survivor);

    const sid = String(jwtPayload(u.tokens.access_token).sid);
    await request(t.url).delete(`/api/v1/auth/sessions/${sid}`).set(other.auth).expect(204);

    await until(() => storage.disconnectReason !== undefined && chat.disconnectReason !== undefined);
    await until(() => plain.close !== undefined);
    for (const seen of [storage, chat]) {
      expect(seen.revoked).toEqual({
        code: 'session_ended',
        message: expect.stringMatching(/sign in again/),
      });
      expect(seen.order).toEqual(['auth:revoked', 'disconnect']);
      expect(seen.disconnectReason).toBe('io server disconnect');
    }
    expect(plain.close).toEqual({ code: 4401, reason: expect.stringMatching(/^session_ended: /) });

    // The other session's socket is untouched and still gets its pushes.
    const pushed = new Promise((resolve) => survivor.once('storage:changed', resolve));
    const blob = randomBytes(16);
    await request(t.url)
      .post('/api/v1/storage/records')
      .set(other.auth)
      .send({
        table: 'notes',
        blob: blob.toString('base64'),
        checksum: createHash('sha256').update(blob).digest('hex'),
      })
      .expect(201);
    await pushed;
    expect(survivor.connected).toBe(true);
    expect(survivorSeen.revoked).toBeUndefined();
  });

  it('tells each namespace of one multiplexed connection why, before the connection goes', async () => {
    const u = await newUser(t);
    const other = await secondSession(u);
    // One connection carrying both namespaces, as a client using both gets by default.
    const manager = new Manager(t.url, { transports: ['websocket'], reconnection: false });
    const root = manager.socket('/', { auth: { token: u.tokens.access_token } });
    const chat = manager.socket('/chat', { auth: { token: u.tokens.access_token } });
    sockets.push(root, chat);
    await until(() => root.connected && chat.connected);
    const seen = [watch(root), watch(chat)];
    const sid = String(jwtPayload(u.tokens.access_token).sid);
    await request(t.url).delete(`/api/v1/auth/sessions/${sid}`).set(other.auth).expect(204);
    await until(() => seen.every((s) => s.disconnectReason !== undefined));
    for (const s of seen) {
      expect(s.revoked?.code).toBe('session_ended');
      expect(s.order).toEqual(['auth:revoked', 'disconnect']);
    }
  });

  it('a logout cuts the sockets of the session it ends', async () => {
    const u = await newUser(t);
    const seen = watch(await connect(u.tokens.access_token));
    await request(t.url)
      .post('/api/v1/auth/logout')
      .send({ refresh_token: u.tokens.refresh_token })
      .expect((res) => expect(res.status).toBeLessThan(300));
    await until(() => seen.disconnectReason !== undefined);
    expect(seen.revoked?.code).toBe('session_ended');
  });

  it('a revoked API key: its sockets are cut (code unauthenticated); the owner’s token sockets stay', async () => {
    const u = await newUser(t);
    const created = await request(t.url)
      .post('/api/v1/auth/api-keys')
      .set(u.auth)
      .send({ name: 'integration' })
      .expect(201);
    const keySocket = watch(await connect(created.body.key as string, '/chat'));
    const keyWs = await ws(created.body.key as string);
    await wsSettled(keyWs);
    const tokenSocket = await connect(u.tokens.access_token);

    await request(t.url)
      .delete(`/api/v1/auth/api-keys/${created.body.id as string}`)
      .set(u.auth)
      .expect(204);
    await until(() => keySocket.disconnectReason !== undefined && keyWs.close !== undefined);
    expect(keySocket.revoked?.code).toBe('unauthenticated');
    expect(keyWs.close?.code).toBe(4401);
    expect(tokenSocket.connected).toBe(true);
  });

  it('an account disabled by an admin: every socket of it is cut', async () => {
    const admin = await newUser(t, { role: 'admin' });
    const u = await newUser(t);
    const a = watch(await connect(u.tokens.access_token));
    const b = watch(await connect(u.tokens.access_token, '/chat'));
    await request(t.url)
      .patch(`/api/v1/admin/users/${u.id}`)
      .set(admin.auth)
      .send({ disabled: true })
      .expect(200);
    await until(() => a.disconnectReason !== undefined && b.disconnectReason !== undefined);
    expect(a.revoked).toEqual({ code: 'session_ended', message: expect.stringMatching(/disabled/) });
    // And it cannot come back.
    await expect(connect(u.tokens.access_token)).rejects.toThrow(/unauthorized|session/);
  });
});

describe('socket limits: connections per account, events per socket and account, event size', () => {
  let t: TestApp;
  let proxy: TcpProxy;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const sockets: Socket[] = [];
  const wss: WebSocket[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    // The app reaches its database through a relay that counts the bytes sent to it.
    proxy = await TcpProxy.to(db.url).start();
    t = await startTestApp({
      db: { ...db, url: proxy.rewrite(db.url) },
      env: {
        SOCKET_MAX_CONNECTIONS_PER_ACCOUNT: '3',
        SOCKET_EVENTS_PER_SOCKET: '5',
        SOCKET_EVENTS_PER_ACCOUNT: '8',
      },
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const ws of wss) ws.terminate();
    await t.close();
    await proxy.stop();
    await db.drop();
  });

  const connect = (token: string, ns = '') => connectSocket(`${t.url}${ns}`, token, sockets);
  const errors = (s: Socket) => {
    const got: Array<Record<string, unknown>> = [];
    s.on('error', (e: Record<string, unknown>) => got.push(e));
    return got;
  };

  it('refuses an account’s connection past the cap (Socket.IO connect_error, WebSocket 4429) and takes one again once another closes', async () => {
    const u = await newUser(t);
    const first = await connect(u.tokens.access_token);
    await connect(u.tokens.access_token, '/chat');
    const plain = await openWs(t, u.tokens.access_token);
    wss.push(plain.ws);
    await wsSettled(plain);
    expect(plain.close).toBeUndefined();

    const refused = await connect(u.tokens.access_token, '/chat').then(
      () => undefined,
      (err: Error & { data?: { code?: string } }) => err,
    );
    expect(refused?.message).toMatch(/^rate_limited: At most 3 live connections per account/);
    expect(refused?.data?.code).toBe('rate_limited');
    const extraWs = await openWs(t, u.tokens.access_token);
    wss.push(extraWs.ws);
    await until(() => extraWs.close !== undefined);
    expect(extraWs.close).toEqual({ code: 4429, reason: expect.stringMatching(/^rate_limited: /) });

    // Another account is not affected by this one's cap.
    const other = await newUser(t);
    await connect(other.tokens.access_token);

    first.close();
    const connections = t.app.get(ConnectionsService);
    await until(() => connections.countFor(u.id) === 2);
    await expect(connect(u.tokens.access_token)).resolves.toBeDefined();
  });

  it('limits a flood of events per socket before any database work, then disconnects a socket that keeps flooding', async () => {
    const u = await newUser(t);
    const s = await connect(u.tokens.access_token, '/chat');
    const got = errors(s);
    // Within the limit: each resume is checked against the database (an unknown id answers not_found).
    for (let i = 0; i < 5; i++) s.emit('resume', { request_id: `unknown-${i}`, after_seq: -1 });
    await until(() => got.length === 5);
    expect(got.map((e) => e.code)).toEqual(Array(5).fill('not_found'));

    const before = proxy.bytesToTarget;
    for (let i = 0; i < 4; i++) s.emit('resume', { request_id: `flood-${i}`, after_seq: -1 });
    s.emit('cancel', { request_id: 'flood-cancel' });
    await until(() => got.length === 10);
    const limited = got.slice(5);
    expect(limited.map((e) => e.code)).toEqual(Array(5).fill('rate_limited'));
    expect(limited[4]).toMatchObject({ request_id: 'flood-cancel' });
    expect(limited[0]).toMatchObject({
      request_id: 'flood-0',
      message: expect.stringMatching(/^At most 5 events per minute on one connection/),
      retry_after: expect.any(Number),
    });
    // Not a byte went to the database for the refused events.
    expect(proxy.bytesToTarget).toBe(before);

    // Past twice its limit, the socket is flooding: it is disconnected rather than answered.
    const gone = new Promise<string>((resolve) => s.once('disconnect', resolve));
    s.emit('cancel', { request_id: 'one-too-many' });
    expect(await gone).toBe('io server disconnect');
    expect(got).toHaveLength(10);
    expect(proxy.bytesToTarget).toBe(before);
  });

  it('counts every socket of an account against the account’s limit', async () => {
    const u = await newUser(t);
    const a = await connect(u.tokens.access_token, '/chat');
    const b = await connect(u.tokens.access_token, '/chat');
    const gotA = errors(a);
    const gotB = errors(b);
    for (let i = 0; i < 4; i++) a.emit('cancel', { request_id: `a-${i}` });
    // A passing cancel answers nothing; a resume of an unknown id answers after the ones before it were counted.
    a.emit('resume', { request_id: 'a-last', after_seq: -1 });
    await until(() => gotA.length === 1);
    expect(gotA[0]).toMatchObject({ code: 'not_found', request_id: 'a-last' });
    for (let i = 0; i < 4; i++) b.emit('cancel', { request_id: `b-${i}` });
    await until(() => gotB.length === 1);
    expect(gotA).toHaveLength(1);
    expect(gotB[0]).toMatchObject({
      code: 'rate_limited',
      request_id: 'b-3',
      message: expect.stringMatching(/^At most 8 socket events per minute per account/),
    });
  });

  it('closes a plain WebSocket that sends past its limit, after one error frame', async () => {
    const u = await newUser(t);
    const plain = await openWs(t, u.tokens.access_token);
    wss.push(plain.ws);
    for (let i = 0; i < 8; i++) plain.ws.send(JSON.stringify({ resume: `ws-flood-${i}`, after_seq: -1 }));
    await until(() => plain.close !== undefined);
    expect(plain.close).toEqual({ code: 1008, reason: expect.stringMatching(/^rate_limited: /) });
    const frames = plain.messages.map((m) => JSON.parse(m) as { error?: { code: string; message: string } });
    const limited = frames.filter((f) => f.error?.message.startsWith('At most 5 events per minute'));
    expect(limited).toHaveLength(1);
    expect(frames.at(-1)).toEqual(limited[0]);
  });

  it('takes the largest valid chat event and drops a connection that sends a bigger packet before parsing it', async () => {
    const u = await newUser(t);
    const s = await connect(u.tokens.access_token, '/chat');
    const got = errors(s);
    // About 250 KiB of context: valid, so it is parsed and answered (no model is configured: 503).
    const context = { recent_tasks: [{ title: 'x'.repeat(250 * 1024) }] };
    s.emit('chat', { message: 'hello', context, request_id: 'big-but-valid' });
    await until(() => got.length === 1);
    expect(got[0]).toMatchObject({ request_id: 'big-but-valid', code: 'feature_not_configured' });

    const gone = new Promise<string>((resolve) => s.once('disconnect', resolve));
    s.emit('chat', { message: 'x'.repeat(MAX_CHAT_EVENT_BYTES), request_id: 'too-big' });
    expect(await gone).toBe('transport close');
    expect(got).toHaveLength(1);
  });
});

withRedis('revocation across instances sharing Redis', () => {
  it('cuts a socket on one instance when its session is revoked on another', async () => {
    const db = await createTestDatabase();
    const env = { REDIS_URL: process.env.REDIS_URL!, JWT_SECRET: randomBytes(32).toString('hex') };
    const a = await startTestApp({ db, env });
    const b = await startTestApp({ db, env });
    const sockets: Socket[] = [];
    try {
      const u = await newUser(a);
      const onB = watch(await connectSocket(`${b.url}/chat`, u.tokens.access_token, sockets));
      const sid = String(jwtPayload(u.tokens.access_token).sid);
      await request(a.url).delete(`/api/v1/auth/sessions/${sid}`).set(u.auth).expect(204);
      await until(() => onB.disconnectReason !== undefined);
      expect(onB.order).toEqual(['auth:revoked', 'disconnect']);
      expect(onB.revoked?.code).toBe('session_ended');
    } finally {
      for (const s of sockets) s.close();
      await a.close();
      await b.close();
      await db.drop();
    }
  });
});
