import { Logger } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { withRedis } from './support/conditions.js';
import { startLocalS3 } from './support/s3.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { createTestDatabase } from './support/test-database.js';
import { newUser, type TestUser } from './support/users.js';
import { until } from './support/wait.js';

/** Figures the closing notes quote, through the logger. */
const report = new Logger('OutageSpec');

interface Answer {
  at: number;
  status: number;
  code?: string;
  retryAfter?: string | null;
  id?: string;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Clients writing records and reading their account in a loop until stopped; every answer kept. */
function load(t: TestApp, user: TestUser, clients: number) {
  const answers: Answer[] = [];
  let running = true;
  const loop = async (i: number) => {
    while (running) {
      const bytes = randomBytes(64);
      const write = i % 2 === 0;
      const res = await fetch(`${t.url}/api/v1/${write ? 'storage/records' : 'auth/me'}`, {
        method: write ? 'POST' : 'GET',
        headers: { ...user.auth, 'content-type': 'application/json' },
        body: write
          ? JSON.stringify({ table: 'notes', blob: bytes.toString('base64'), checksum: sha(bytes) })
          : undefined,
      }).catch(() => undefined);
      if (!res) continue;
      const body = (await res.json().catch(() => ({}))) as { code?: string; id?: string };
      answers.push({
        at: Date.now(),
        status: res.status,
        code: body.code,
        retryAfter: res.headers.get('retry-after'),
        id: write && res.status === 201 ? body.id : undefined,
      });
      await sleep(10);
    }
  };
  const done = Promise.all(Array.from({ length: clients }, (_, i) => loop(i)));
  return {
    answers,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

describe('backing-service outages answer 503 and heal', () => {
  it('a database outage: only 2xx and 503 database_unavailable, readiness names it, heals by itself, logged once', async () => {
    const db = await createTestDatabase();
    const proxy = await TcpProxy.to(db.url).start();
    const t = await startTestApp({
      db: { ...db, url: proxy.rewrite(db.url) },
      env: { RATE_LIMIT_ENABLED: 'false', DATABASE_CONNECT_TIMEOUT_MS: '1000' },
    });
    try {
      const user = await newUser(t, { tier: 'pro' });
      const traffic = load(t, user, 4);
      await sleep(500);
      await proxy.cut();
      const cutAt = Date.now();
      await sleep(1500);
      const ready = await fetch(`${t.url}/api/v1/health/ready`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { message: string }).message).toMatch(/database is down/);
      await sleep(1500);
      await proxy.restore();
      const restoredAt = Date.now();
      await until(() => traffic.answers.some((a) => a.at > restoredAt && a.status < 300), 15_000);
      await sleep(300);
      await traffic.stop();

      const { answers } = traffic;
      const byStatus = answers.reduce<Record<number, number>>(
        (m, a) => ({ ...m, [a.status]: (m[a.status] ?? 0) + 1 }),
        {},
      );
      expect(Object.keys(byStatus).map(Number).sort()).toEqual([200, 201, 503]);
      const during = answers.filter((a) => a.at > cutAt + 200 && a.at < restoredAt);
      expect(during.length).toBeGreaterThan(3);
      expect(
        during.every((a) => a.status === 503 && a.code === 'database_unavailable' && a.retryAfter === '5'),
      ).toBe(true);
      // Healed without a restart: the clients' requests succeed again once the database is back
      // (how soon is reported below, not asserted: a loaded machine only makes it later).
      const firstBack = answers.find((a) => a.at > restoredAt && a.status < 300);
      expect(firstBack).toBeDefined();

      // What was acknowledged is there, whole. A write whose commit reached the database as the
      // connection was cut is there too though its client got a 503 (the answer, not the write, was
      // lost): at most one per writing client, and whole like the rest.
      const ids = answers.filter((a) => a.id).map((a) => a.id!);
      const listed = await fetch(`${t.url}/api/v1/storage/records?table=notes&limit=100`, {
        headers: user.auth,
      });
      const stored = (await listed.json()) as Array<{ id: string; checksum: string }>;
      expect(stored.map((r) => r.id)).toEqual(expect.arrayContaining(ids));
      expect(stored.length - ids.length).toBeLessThanOrEqual(2);
      for (const record of stored.filter((r) => !ids.includes(r.id))) {
        const got = await fetch(`${t.url}/api/v1/storage/records/${record.id}`, { headers: user.auth });
        expect(got.status).toBe(200);
        const bytes = Buffer.from(await got.arrayBuffer());
        expect(sha(bytes)).toBe(record.checksum);
        expect(got.headers.get('x-checksum')).toBe(record.checksum);
      }

      // The log: the outage once when it began and once when it ended; no stack per request.
      await until(() => t.logs.lines.some((l) => /database is back after/.test(String(l.msg))), 3000);
      const lines = t.logs.lines;
      expect(lines.filter((l) => /database is unreachable/.test(String(l.msg)))).toHaveLength(1);
      const back = lines.filter((l) => /database is back after/.test(String(l.msg)));
      expect(back).toHaveLength(1);
      expect(String(back[0].msg)).toMatch(/\d+ requests? answered 503 meanwhile/);
      expect(lines.filter((l) => l.level === 'error')).toEqual([]);
      report.log(
        `database outage: answers by status ${JSON.stringify(byStatus)}; first success ${firstBack!.at - restoredAt} ms after the server's return`,
      );
    } finally {
      await t.close();
      await proxy.stop();
      await db.drop();
    }
  });

  it('a blob store outage: writes and reads answer 503 storage_unavailable, nothing half-written, then heal', async () => {
    const s3 = await startLocalS3();
    const proxy = await TcpProxy.to(s3.endpoint).start();
    const t = await startTestApp({
      // No blob sweep: s3rver lacks the multipart-listing calls it makes (test/blob-sweep covers it).
      env: {
        ...s3.env,
        S3_ENDPOINT_URL: `http://127.0.0.1:${proxy.port}`,
        RATE_LIMIT_ENABLED: 'false',
        BLOB_SWEEP_INTERVAL_MS: '0',
      },
    });
    try {
      const user = await newUser(t, { tier: 'pro' });
      const bytes = randomBytes(1000);
      const before = await fetch(`${t.url}/api/v1/storage/records`, {
        method: 'POST',
        headers: { ...user.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ table: 'notes', blob: bytes.toString('base64'), checksum: sha(bytes) }),
      });
      expect(before.status).toBe(201);
      const { id } = (await before.json()) as { id: string };
      const traffic = load(t, user, 2);
      await sleep(300);
      await proxy.cut();
      const cutAt = Date.now();
      await sleep(1500);
      const read = await fetch(`${t.url}/api/v1/storage/records/${id}`, { headers: user.auth });
      expect(read.status).toBe(503);
      expect(((await read.json()) as { code: string }).code).toBe('storage_unavailable');
      await proxy.restore();
      const restoredAt = Date.now();
      await until(() => traffic.answers.some((a) => a.at > restoredAt && a.status === 201), 5000);
      await traffic.stop();

      const writes = traffic.answers.filter((a) => a.status !== 200);
      expect(new Set(writes.map((a) => a.status))).toEqual(new Set([201, 503]));
      expect(
        writes
          .filter((a) => a.at > cutAt + 200 && a.at < restoredAt)
          .every((a) => a.code === 'storage_unavailable'),
      ).toBe(true);
      // Every acknowledged record reads back; none of the refused ones exists.
      const ids = [id, ...traffic.answers.filter((a) => a.id).map((a) => a.id!)];
      const listed = await fetch(`${t.url}/api/v1/storage/records?table=notes&limit=100`, {
        headers: user.auth,
      });
      expect(Number(listed.headers.get('x-total-count'))).toBe(ids.length);
      const again = await fetch(`${t.url}/api/v1/storage/records/${id}`, { headers: user.auth });
      expect(Buffer.from(await again.arrayBuffer())).toEqual(bytes);
      expect(t.logs.lines.filter((l) => /blob_store is unreachable/.test(String(l.msg)))).toHaveLength(1);
      await until(() => t.logs.lines.some((l) => /blob_store is back after/.test(String(l.msg))), 3000);
      expect(t.logs.lines.filter((l) => /blob_store is back after/.test(String(l.msg)))).toHaveLength(1);
      expect(t.logs.lines.filter((l) => l.level === 'error')).toEqual([]);
    } finally {
      await t.close();
      await proxy.stop();
      await s3.stop();
    }
  });
});

withRedis('a Redis outage', () => {
  it('serves every request, with the rate limits counted in the instance meanwhile', async () => {
    const proxy = await TcpProxy.to(process.env.REDIS_URL!).start();
    const t = await startTestApp({
      env: { REDIS_URL: proxy.rewrite(process.env.REDIS_URL!), RATE_LIMIT_ENABLED: 'true' },
    });
    try {
      const user = await newUser(t, { tier: 'free' }); // 20 requests a minute
      await proxy.cut();
      const statuses: number[] = [];
      for (let i = 0; i < 24; i++) {
        const res = await fetch(`${t.url}/api/v1/auth/me`, {
          headers: user.auth,
          signal: AbortSignal.timeout(5000),
        });
        statuses.push(res.status);
      }
      expect(statuses.slice(0, 20)).toEqual(Array(20).fill(200));
      expect(statuses.slice(20)).toEqual(Array(4).fill(429));
      expect(t.logs.lines.filter((l) => /Rate limits counted per instance/.test(String(l.msg)))).toHaveLength(
        1,
      );
      await proxy.restore();
    } finally {
      await t.close();
      await proxy.stop();
    }
  });
});
