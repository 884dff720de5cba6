import request from 'supertest';
import { CheckRunner } from '../src/modules/plugin-submissions/check-runner.service.js';
import { codeLikePackage, sha256Hex, validPluginPackage } from './support/plugin-package.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';

/**
 * Submission limits through the real API: every submission counts against its account's hourly
 * limit, failed ones included (429 with Retry-After past it), and the checks queue is fair between
 * accounts, so one account's flood of failing packages delays nobody else's check.
 */

const LIMIT = 4;
let counter = 0;

function manifest() {
  counter += 1;
  const id = `sq${counter}x-${Math.random().toString(36).slice(2, 10)}`;
  return {
    id,
    name: `Plugin ${id}`,
    description: 'A plugin written by the submission limit tests.',
    version: '1.0.0',
    author: 'Limit Tests',
    permissions: ['read:tasks'],
    category: 'Productivity',
    price_cents: 0,
  };
}

describe('plugin submission limits', () => {
  let t: TestApp;
  const submit = (user: TestUser, payload: object) =>
    request(t.url).post('/api/v1/plugins').set(user.auth).send(payload);

  beforeAll(async () => {
    t = await startTestApp({
      env: { RATE_LIMIT_ENABLED: 'false', PLUGIN_SUBMISSIONS_PER_HOUR: String(LIMIT) },
    });
  });
  afterAll(() => t?.close());

  it('checks another account’s submission before a flood’s later items, and answers the flood 429 past its limit', async () => {
    const checks = t.app.get(CheckRunner).pool;
    const flooder = await newUser(t);
    const other = await newUser(t);
    // A few MiB of code under a wrong checksum: it fails, but only after its package and secret checks ran.
    const m = manifest();
    const slow = codeLikePackage(m, 3 * 1024 * 1024).bytes;
    const failing = { manifest: m, package: slow.toString('base64'), checksum: 'ab'.repeat(32) };
    const finished: string[] = [];
    const flood = Array.from({ length: LIMIT }, (_, index) =>
      submit(flooder, failing).then((res) => {
        finished.push(`flood-${index}`);
        return res;
      }),
    );
    // Ordering, not timing: the other account submits once the whole flood is in the pool (counted),
    // running or waiting (a job waits too while the pool is still starting its worker).
    const inPool = () => checks.stats.queued + checks.stats.busy;
    while (inPool() < LIMIT && finished.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(finished).toEqual([]);

    // Counted as they arrived: the next one from the flooding account is refused before any check,
    // a well-formed package too.
    const good = manifest();
    const over = await submit(flooder, {
      manifest: good,
      package: validPluginPackage(good).toString('base64'),
      checksum: sha256Hex(validPluginPackage(good)),
    });
    expect(over.status).toBe(429);
    expect(over.body.code).toBe('rate_limited');
    const retryAfter = Number(over.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);

    const mine = manifest();
    const pkg = validPluginPackage(mine);
    const accepted = submit(other, {
      manifest: mine,
      package: pkg.toString('base64'),
      checksum: sha256Hex(pkg),
    }).then((res) => {
      finished.push('other');
      return res;
    });
    const answers = await Promise.all(flood);
    const res = await accepted;
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('pending_review');
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe('plugin_checks_failed');
    }
    // The other account waited for the flood's running item at most, never for its queued ones.
    expect(finished.indexOf('other')).toBeLessThanOrEqual(1);
    expect(finished).toHaveLength(LIMIT + 1);
    // The flood delayed nobody else's account: a third one is checked at once too.
    const third = await newUser(t);
    const again = manifest();
    const bytes = validPluginPackage(again);
    expect(
      (
        await submit(third, {
          manifest: again,
          package: bytes.toString('base64'),
          checksum: sha256Hex(bytes),
        })
      ).status,
    ).toBe(201);
  }, 120_000);

  it('counts failed submissions: a failing one uses the limit as a passing one does', async () => {
    const author = await newUser(t);
    for (let index = 0; index < LIMIT; index++) {
      const res = await submit(author, {
        manifest: manifest(),
        package: Buffer.from('not a zip').toString('base64'),
        checksum: 'ab'.repeat(32),
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('plugin_checks_failed');
    }
    const m = manifest();
    const pkg = validPluginPackage(m);
    const res = await submit(author, {
      manifest: m,
      package: pkg.toString('base64'),
      checksum: sha256Hex(pkg),
    });
    expect(res.status).toBe(429);
    expect(res.body.code).toBe('rate_limited');
    expect(res.body.message).toMatch(
      /^at most 4 plugin submissions per hour, failed ones included: retry in \d+ s$/,
    );
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    // Nothing was stored for any of them.
    const mine = await request(t.url).get('/api/v1/plugins/mine').set(author.auth);
    expect(mine.body.plugins).toEqual([]);
  });
});
