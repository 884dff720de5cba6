import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { io } from 'socket.io-client';
import request from 'supertest';
import WebSocket from 'ws';
import { PrincipalsRepository } from '../src/modules/auth/principals.repository.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';

const MIB = 1024 * 1024;
/** AUTH_FAILURE_LIMIT_PER_IP's default. */
const FAILURE_LIMIT = 30;

/** An API key that was never issued, with a prefix of its own (failed keys are also counted per prefix). */
const bogusKey = () => `adv_${randomBytes(24).toString('base64url')}`;

let addresses = 0;
/** A client address of its own (the app trusts X-Forwarded-For), so each test counts from zero. */
const nextAddress = () => `198.51.100.${++addresses}`;

interface RawAnswer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** Body bytes the client had handed to its socket when the answer arrived. */
  sentWhenAnswered: number;
  /** The server closed the connection (the client never ended its request). */
  closedByServer: boolean;
}

/**
 * Sends `total` body bytes in 64 KiB pieces, each only after the previous one
 * drained (a slow uploader), and stops writing as soon as the answer arrives.
 */
function slowUpload(
  url: string,
  method: 'POST' | 'PUT',
  path: string,
  total: number,
  headers: Record<string, string | number>,
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise<RawAnswer>((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method, headers });
    let sent = 0;
    let responded = false;
    let answered: Omit<RawAnswer, 'closedByServer'> | undefined;
    let closed = false;
    const settle = () => {
      if (answered && closed) resolve({ ...answered, closedByServer: sent < total });
    };
    const piece = Buffer.alloc(64 * 1024, 0x61);
    const writeNext = () => {
      if (responded || req.destroyed) return;
      if (sent >= total) return void req.end();
      sent += piece.length;
      if (req.write(piece)) setImmediate(writeNext);
      else req.once('drain', () => setImmediate(writeNext));
    };
    req.on('socket', (socket) =>
      socket.once('close', () => {
        closed = true;
        if (!responded) reject(new Error(`no answer; ${sent} bytes sent`));
        settle();
      }),
    );
    req.on('response', (res) => {
      responded = true;
      const sentWhenAnswered = sent;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        answered = {
          status: res.statusCode!,
          headers: res.headers,
          body: JSON.parse(text) as Record<string, unknown>,
          sentWhenAnswered,
        };
        settle();
      });
    });
    // The server closing mid-upload may reset the connection under the client's last writes.
    req.on('error', () => undefined);
    req.flushHeaders();
    writeNext();
  });
}

describe('pre-authentication work', () => {
  let t: TestApp;
  let power: TestUser;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRUST_PROXY: 'true' } });
    power = await newUser(t, { tier: 'power' });
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  describe('body limits per route, read only after authentication', () => {
    it('answers an authenticated 2 MiB rating 413 from its Content-Length, and closes the connection', async () => {
      const res = await request(t.url)
        .post('/api/v1/plugins/github-sync/ratings')
        .set(power.auth)
        .send({ stars: 5, comment: 'x'.repeat(2 * MIB) });
      expect(res.status).toBe(413);
      expect(res.body).toEqual({
        statusCode: 413,
        error: 'Payload Too Large',
        code: 'payload_too_large',
        message: 'Request body exceeds the limit of 64 KiB',
        request_id: expect.any(String),
      });
      expect(res.headers.connection).toBe('close');
      // Under the limit, the body reaches the route's own rules (the comment's length is validated).
      const under = await request(t.url)
        .post('/api/v1/plugins/github-sync/ratings')
        .set(power.auth)
        .send({ stars: 5, comment: 'x'.repeat(60 * 1024) });
      expect(under.status).not.toBe(413);
    });

    it('stops reading a chunked body as soon as it passes the limit', async () => {
      const answer = await slowUpload(t.url, 'POST', '/api/v1/plugins/github-sync/ratings', 32 * MIB, {
        ...power.auth,
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
      });
      expect(answer.status).toBe(413);
      expect(answer.body.code).toBe('payload_too_large');
      expect(answer.closedByServer).toBe(true);
      // Most of the body was still unsent when the answer came: what the client got out is what the
      // sockets' buffers took (a few MiB on loopback, more on a loaded machine), not the body.
      expect(answer.sentWhenAnswered).toBeLessThan(12 * MIB);
    });

    it('refuses a 30 MiB unauthenticated upload with 401 before it is sent, and closes the connection', async () => {
      for (const [method, path, type] of [
        ['PUT', '/api/v1/backup', 'application/octet-stream'],
        ['POST', '/api/v1/plugins', 'application/json'],
      ] as const) {
        const answer = await slowUpload(t.url, method, path, 30 * MIB, {
          'content-type': type,
          'content-length': 30 * MIB,
          'x-backup-version': 1,
          'x-backup-timestamp': Date.now(),
          'x-backup-checksum': 'ab'.repeat(32),
        });
        expect({ path, status: answer.status, code: answer.body.code }).toEqual({
          path,
          status: 401,
          code: 'unauthenticated',
        });
        expect(answer.headers.connection).toBe('close');
        expect(answer.closedByServer).toBe(true);
        // Most of the body was still unsent when the answer came (the sockets' buffers took the rest).
        expect(answer.sentWhenAnswered).toBeLessThan(12 * MIB);
      }
    });

    it('answers an authenticated body over its declared size 413 before it is sent', async () => {
      const answer = await slowUpload(t.url, 'POST', '/api/v1/plugins', 30 * MIB, {
        ...power.auth,
        'content-type': 'application/json',
        'content-length': 30 * MIB,
      });
      expect(answer.status).toBe(413);
      expect(answer.body.message).toMatch(/^Request body exceeds the limit of /);
      expect(answer.closedByServer).toBe(true);
      expect(answer.sentWhenAnswered).toBeLessThan(12 * MIB);
    });

    it('keeps the connection of a body read to its end', async () => {
      const agent = new Agent({ keepAlive: true });
      const { hostname, port } = new URL(t.url);
      const body = JSON.stringify({ stars: 9 });
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpRequest({
          hostname,
          port,
          agent,
          method: 'POST',
          path: '/api/v1/plugins/github-sync/ratings',
          headers: { ...power.auth, 'content-type': 'application/json', 'content-length': body.length },
        });
        req.on('response', resolve).on('error', reject).end(body);
      });
      res.resume();
      agent.destroy();
      expect(res.statusCode).toBe(400);
      expect(res.headers.connection).toBe('keep-alive');
    });
  });

  describe('failed authentication is limited per address', () => {
    const expectLimited = (res: request.Response) => {
      expect(res.status).toBe(429);
      expect(res.body.code).toBe('rate_limited');
      const retryAfter = Number(res.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    };

    it('answers 300 bogus credentials from one address 401 up to the limit, then 429 with Retry-After', async () => {
      const address = nextAddress();
      const lookups = jest.spyOn(t.app.get(PrincipalsRepository), 'forApiKeyHash');
      const statuses: number[] = [];
      for (let i = 0; i < 300; i++) {
        // Bogus API keys and garbage bearer tokens alike.
        const credentials =
          i % 2 === 0 ? { 'X-API-Key': bogusKey() } : { Authorization: `Bearer garbage.${i}.token` };
        const res = await request(t.url)
          .get('/api/v1/auth/me')
          .set(credentials)
          .set('X-Forwarded-For', address);
        statuses.push(res.status);
        if (res.status === 429) expectLimited(res);
      }
      expect(statuses.slice(0, FAILURE_LIMIT)).toEqual(Array(FAILURE_LIMIT).fill(401));
      expect(statuses.slice(FAILURE_LIMIT)).toEqual(Array(300 - FAILURE_LIMIT).fill(429));
      // Past the limit, the keys were refused before they were hashed and looked up.
      expect(lookups.mock.calls.length).toBeLessThanOrEqual(FAILURE_LIMIT / 2 + 1);

      // Another address is not affected.
      await request(t.url)
        .get('/api/v1/auth/me')
        .set('X-API-Key', 'adv_bogus')
        .set('X-Forwarded-For', nextAddress())
        .expect(401);
    });

    it('still lets a valid access token in from a limited address, but not an API key (it needs a lookup)', async () => {
      const address = nextAddress();
      const u = await newUser(t);
      const key = (
        await request(t.url).post('/api/v1/auth/api-keys').set(u.auth).send({ name: 'k' }).expect(201)
      ).body.key as string;
      for (let i = 0; i <= FAILURE_LIMIT; i++) {
        await request(t.url)
          .get('/api/v1/auth/me')
          .set('Authorization', `Bearer bad${i}`)
          .set('X-Forwarded-For', address);
      }
      const me = await request(t.url).get('/api/v1/auth/me').set(u.auth).set('X-Forwarded-For', address);
      expect(me.status).toBe(200);
      expect(me.body.email).toBe(u.email);
      expectLimited(
        await request(t.url).get('/api/v1/auth/me').set('X-API-Key', key).set('X-Forwarded-For', address),
      );
    });

    it('limits failed attempts per API-key prefix across addresses', async () => {
      const prefix = 'adv_zq9X';
      const statuses: number[] = [];
      for (let i = 0; i <= FAILURE_LIMIT; i++) {
        const res = await request(t.url)
          .get('/api/v1/auth/me')
          .set('X-API-Key', `${prefix}guess-${i}`)
          .set('X-Forwarded-For', nextAddress());
        statuses.push(res.status);
      }
      expect(statuses.slice(0, FAILURE_LIMIT)).toEqual(Array(FAILURE_LIMIT).fill(401));
      expectLimited(
        await request(t.url)
          .get('/api/v1/auth/me')
          .set('X-API-Key', `${prefix}another`)
          .set('X-Forwarded-For', nextAddress()),
      );
      // Requests without credentials are not attempts: they are never counted.
      const quiet = nextAddress();
      for (let i = 0; i <= FAILURE_LIMIT; i++) {
        await request(t.url).get('/api/v1/auth/me').set('X-Forwarded-For', quiet).expect(401);
      }
    });

    it('refuses Socket.IO handshakes past the limit with a connect_error naming rate_limited', async () => {
      const address = nextAddress();
      const errors: Array<{ message: string; data?: Record<string, unknown> }> = [];
      for (let i = 0; i < 300; i++) {
        const s = io(t.url, {
          auth: { token: i % 2 ? bogusKey() : `garbage.${i}` },
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
          extraHeaders: { 'x-forwarded-for': address },
        });
        errors.push(
          await new Promise((resolve) => {
            s.once('connect', () => resolve({ message: 'connected' }));
            s.once('connect_error', (err: Error & { data?: Record<string, unknown> }) =>
              resolve({ message: err.message, data: err.data }),
            );
          }),
        );
        s.close();
      }
      expect(errors.slice(0, FAILURE_LIMIT).every((e) => /^unauthorized: /.test(e.message))).toBe(true);
      expect(errors[0].data).toMatchObject({ code: 'unauthenticated' });
      const limited = errors.slice(FAILURE_LIMIT);
      expect(limited.every((e) => e.data?.code === 'rate_limited')).toBe(true);
      expect(limited[limited.length - 1].message).toMatch(
        /^rate_limited: Too many failed authentication attempts/,
      );
      expect(limited[limited.length - 1].data?.retry_after).toEqual(expect.any(Number));
    });

    it('refuses WebSocket upgrades past the limit with HTTP 429; below it a bad token still closes with 4401', async () => {
      const address = nextAddress();
      const wsUrl = `${t.url.replace('http', 'ws')}/api/v1/chat/stream`;
      const outcomes: Array<{ code?: number; status?: number; retryAfter?: string }> = [];
      for (let i = 0; i < 300; i++) {
        const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(`garbage.${i}`)}`, {
          headers: { 'x-forwarded-for': address },
        });
        outcomes.push(
          await new Promise((resolve) => {
            ws.once('unexpected-response', (_req, res) => {
              resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] });
              res.resume();
              ws.terminate();
            });
            ws.once('close', (code) => resolve({ code }));
            ws.once('error', () => undefined);
          }),
        );
      }
      expect(outcomes.slice(0, FAILURE_LIMIT)).toEqual(Array(FAILURE_LIMIT).fill({ code: 4401 }));
      // The attempt that passed the limit was upgraded already; every later one is refused before.
      const refused = outcomes.slice(FAILURE_LIMIT + 1);
      expect(refused.every((o) => o.status === 429 && Number(o.retryAfter) >= 1)).toBe(true);

      // A valid token from the same address still connects.
      const u = await newUser(t, { tier: 'pro' });
      const ok = new WebSocket(`${wsUrl}?token=${encodeURIComponent(u.tokens.access_token)}`, {
        headers: { 'x-forwarded-for': address },
      });
      await new Promise<void>((resolve, reject) => {
        ok.once('open', () => resolve());
        ok.once('unexpected-response', () => reject(new Error('refused')));
      });
      ok.close();
    });
  });
});
