import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { MemoryRateLimitStore, type RateLimitStore } from '../src/common/rate-limit/rate-limit.store.js';
import { RedisRateLimitStore } from '../src/common/rate-limit/redis-rate-limit.store.js';
import { withRedis } from './support/conditions.js';
import { createTestDatabase } from './support/test-database.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser } from './support/users.js';

const REDIS_URL = process.env.REDIS_URL;

const login = (t: TestApp, email: string, headers: Record<string, string> = {}) =>
  request(t.url).post('/api/v1/auth/login').set(headers).send({ email, password: 'wrong password!!' });

describe('rate limits per tier', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('allows 20 requests a minute on free, then 429 with Retry-After and RateLimit-* headers', async () => {
    const u = await newUser(t);
    for (let i = 1; i <= 20; i++) {
      const res = await request(t.url).get('/api/v1/auth/me').set(u.auth).expect(200);
      expect(res.headers['ratelimit-limit']).toBe('20');
      expect(res.headers['ratelimit-remaining']).toBe(String(20 - i));
    }
    const res = await request(t.url).get('/api/v1/auth/me').set(u.auth).expect(429);
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(res.headers['ratelimit-remaining']).toBe('0');
    expect(res.body).toMatchObject({
      statusCode: 429,
      error: 'Too Many Requests',
      message: `Rate limit of the free tier exceeded (20 requests per minute); retry in ${retryAfter} s`,
    });
  });

  it('applies a tier change on the very next request', async () => {
    const u = await newUser(t);
    for (let i = 0; i < 20; i++) await request(t.url).get('/api/v1/auth/me').set(u.auth).expect(200);
    await request(t.url).get('/api/v1/auth/me').set(u.auth).expect(429);
    await t.app.get(DataSource).query(`UPDATE users SET tier_override = 'pro' WHERE id = $1`, [u.id]);
    const res = await request(t.url).get('/api/v1/auth/me').set(u.auth).expect(200);
    expect(res.headers['ratelimit-limit']).toBe('60');
    expect(res.body.tier).toBe('pro');
  });

  it('counts an API key against its owner’s limit', async () => {
    const u = await newUser(t);
    const key = (
      await request(t.url).post('/api/v1/auth/api-keys').set(u.auth).send({ name: 'k' }).expect(201)
    ).body.key;
    for (let i = 0; i < 9; i++) await request(t.url).get('/api/v1/auth/me').set(u.auth).expect(200);
    for (let i = 0; i < 10; i++)
      await request(t.url).get('/api/v1/auth/me').set('X-API-Key', key).expect(200);
    await request(t.url).get('/api/v1/auth/me').set('X-API-Key', key).expect(429);
    await request(t.url).get('/api/v1/auth/me').set(u.auth).expect(429);
  });

  it('never limits the health probes', async () => {
    for (let i = 0; i < 30; i++) {
      const res = await request(t.url).get('/api/v1/health').expect(200);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
  });
});

describe('sign-in limits', () => {
  it('limits sign-ins per account (10 per 15 minutes)', async () => {
    const t = await startTestApp();
    try {
      for (let i = 0; i < 10; i++) await login(t, 'target@example.com').expect(401);
      const res = await login(t, 'TARGET@example.com').expect(429);
      expect(res.body.message).toMatch(
        /^Too many sign-in requests for this account \(limit 10 per 15 minutes\)/,
      );
      // Another account from the same address is not affected.
      await login(t, 'someone-else@example.com').expect(401);
    } finally {
      await t.close();
    }
  });

  it('limits sign-ins per IP (30 a minute); a forged X-Forwarded-For does not reset the count', async () => {
    const t = await startTestApp();
    try {
      for (let i = 0; i < 30; i++) {
        await login(t, `ip-${i}@example.com`, { 'X-Forwarded-For': `203.0.113.${i}` }).expect(401);
      }
      const res = await login(t, 'ip-last@example.com', { 'X-Forwarded-For': '198.51.100.7' }).expect(429);
      expect(res.body.message).toMatch(/^Too many sign-in requests from this address/);
      await request(t.url)
        .post('/api/v1/auth/register')
        .send({ email: 'new@example.com', password: 'long enough password' })
        .expect(429);
    } finally {
      await t.close();
    }
  });

  it('takes the client address from X-Forwarded-For when TRUST_PROXY says so', async () => {
    const t = await startTestApp({ env: { TRUST_PROXY: 'loopback' } });
    try {
      for (let i = 0; i < 31; i++) {
        await login(t, `proxied-${i}@example.com`, { 'X-Forwarded-For': `203.0.113.${i % 2}` }).expect(401);
      }
      // 31 requests spread over two client addresses: neither reached 30.
      await login(t, 'proxied-x@example.com', { 'X-Forwarded-For': '203.0.113.0' }).expect(401);
    } finally {
      await t.close();
    }
  });
});

describe('rate-limit stores', () => {
  const contract = (
    name: string,
    make: () => Promise<{ store: RateLimitStore; close: () => Promise<void> }>,
  ) => {
    describe(name, () => {
      let store: RateLimitStore;
      let close: () => Promise<void>;
      beforeAll(async () => {
        ({ store, close } = await make());
      });
      afterAll(() => close());

      it('counts hits per key within a window and resets after it', async () => {
        // A window far longer than the test: both hits fall in it however slow the machine is.
        const key = `contract:${randomUUID()}`;
        const opening = await store.hit(key, 60_000);
        expect(opening.count).toBe(1);
        const second = await store.hit(key, 60_000);
        expect(second.count).toBe(2);
        // The second hit falls in the first one's window: it does not start a new one.
        expect(second.resetMs).toBeGreaterThan(0);
        expect(second.resetMs).toBeLessThanOrEqual(opening.resetMs);
        expect((await store.hit(`${key}:other`, 60_000)).count).toBe(1);

        // A short window, waited out by the time it reports (later is fine): counting starts again.
        const short = `contract:${randomUUID()}`;
        const first = await store.hit(short, 200);
        expect(first.count).toBe(1);
        await new Promise((r) => setTimeout(r, first.resetMs + 50));
        expect((await store.hit(short, 200)).count).toBe(1);
      });

      it('counts concurrent hits exactly', async () => {
        const key = `contract:${randomUUID()}`;
        const results = await Promise.all(Array.from({ length: 50 }, () => store.hit(key, 10_000)));
        expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 50 }, (_, i) => i + 1),
        );
      });
    });
  };

  contract('memory', () =>
    Promise.resolve({ store: new MemoryRateLimitStore(), close: () => Promise.resolve() }),
  );
  if (REDIS_URL) {
    contract('redis', () => {
      const redis = new Redis(REDIS_URL);
      return Promise.resolve({
        store: new RedisRateLimitStore(redis, `test:${randomUUID()}:`),
        close: async () => void (await redis.quit()),
      });
    });
  }
});

withRedis('two instances sharing Redis', () => {
  it('hold one limit between them', async () => {
    const db = await createTestDatabase();
    // Instances behind one balancer share the JWT secret (the dev default is per DATA_DIR).
    const env = { REDIS_URL: process.env.REDIS_URL!, JWT_SECRET: randomUUID() + randomUUID() };
    const a = await startTestApp({ db, env });
    const b = await startTestApp({ db, env });
    try {
      const u = await newUser(a);
      for (let i = 0; i < 10; i++) await request(a.url).get('/api/v1/auth/me').set(u.auth).expect(200);
      for (let i = 0; i < 10; i++) await request(b.url).get('/api/v1/auth/me').set(u.auth).expect(200);
      await request(a.url).get('/api/v1/auth/me').set(u.auth).expect(429);
      await request(b.url).get('/api/v1/auth/me').set(u.auth).expect(429);
      const ready = await request(a.url).get('/api/v1/health/ready').expect(200);
      expect(ready.body.checks).toEqual({ database: 'up', redis: 'up', blob_store: 'up' });
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });
});
