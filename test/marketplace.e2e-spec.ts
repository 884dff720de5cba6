import { createHash, createPublicKey, verify } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { BlobStore } from '../src/common/blob-store/blob-store.js';
import { BlobSweepService } from '../src/common/blob-store/blob-sweep.service.js';
import { PluginSeedsService } from '../src/modules/plugin-catalog/plugin-seeds.service.js';
import { startLocalS3, type LocalS3 } from './support/s3.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';

const SEED_IDS = ['github-sync', 'slack-notifier', 'time-tracker'];

describe('plugin marketplace: catalog, detail and signing key', () => {
  let t: TestApp;
  let power: TestUser;
  let sql: DataSource;

  const catalog = (query: Record<string, string | number> = {}) =>
    request(t.url).get('/api/v1/plugins').query(query).set(power.auth);
  const ids = (body: { plugins: Array<{ id: string }> }) => body.plugins.map((p) => p.id);

  /** Installs and ratings written directly: their routes come in a later release. */
  async function install(pluginId: string, stars?: number): Promise<void> {
    const user = await newUser(t);
    await sql.query(
      `INSERT INTO plugin_installs (id, user_id, plugin_id) VALUES (gen_random_uuid(), $1, $2)`,
      [user.id, pluginId],
    );
    if (stars === undefined) return;
    await sql.query(
      `INSERT INTO plugin_ratings (id, user_id, plugin_id, stars) VALUES (gen_random_uuid(), $1, $2, $3)`,
      [user.id, pluginId, stars],
    );
  }

  /** A plugin by `author` with one version in `status` (what submission will write). */
  async function plugin(id: string, author: TestUser, status: string, quarantined = false): Promise<void> {
    await sql.query(
      `INSERT INTO plugins (id, author_id, name, description, category, quarantined_at)
       VALUES ($1, $2, $1, 'A hidden test plugin about spreadsheets', 'Productivity', $3)`,
      [id, author.id, quarantined ? new Date() : null],
    );
    await version(id, '1.0.0', status);
  }

  async function version(pluginId: string, semver: string, status: string): Promise<void> {
    await sql.query(
      `INSERT INTO plugin_versions (id, plugin_id, version, manifest, status, sha256, blob_key, size)
       VALUES (gen_random_uuid(), $1, $2, '{}', $3, $4, $5, 1)`,
      [pluginId, semver, status, 'ab'.repeat(32), `plugins/${pluginId}/${semver}.zip`],
    );
  }

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_ENABLED: 'false' } });
    sql = t.app.get(DataSource);
    power = await newUser(t, { tier: 'power' });
    // time-tracker: 3 installs, ratings 3 and 4; slack-notifier: 1 install rated 5; github-sync: none.
    await install('time-tracker', 3);
    await install('time-tracker', 4);
    await install('time-tracker');
    await install('slack-notifier', 5);
    const author = await newUser(t, { tier: 'power' });
    await plugin('sheet-pending', author, 'pending_review');
    await plugin('sheet-rejected', author, 'rejected');
    await plugin('sheet-errored', author, 'checks_errored');
    await plugin('sheet-quarantined', author, 'approved', true);
  });
  afterAll(() => t?.close());

  describe('tier gate', () => {
    it.each(['free', 'pro'] as const)(
      'refuses the %s tier with 403 tier_required naming power',
      async (tier) => {
        const user = await newUser(t, { tier });
        for (const path of ['/api/v1/plugins', '/api/v1/plugins/github-sync']) {
          const res = await request(t.url).get(path).set(user.auth);
          expect(res.status).toBe(403);
          expect(res.body).toMatchObject({ code: 'tier_required', required_tier: 'power' });
        }
      },
    );

    it.each(['power', 'team'] as const)('serves the %s tier', async (tier) => {
      const user = await newUser(t, { tier });
      const res = await request(t.url).get('/api/v1/plugins').set(user.auth);
      expect(res.status).toBe(200);
    });

    it('answers 401 without credentials', async () => {
      expect((await request(t.url).get('/api/v1/plugins')).status).toBe(401);
    });
  });

  describe('catalog', () => {
    it('lists the approved seed plugins only, with counts (pending, rejected, errored, quarantined hidden)', async () => {
      const res = await catalog();
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(3);
      expect(res.body.page).toBe(1);
      expect(ids(res.body).sort()).toEqual(SEED_IDS);
      const tracker = res.body.plugins.find((p: { id: string }) => p.id === 'time-tracker');
      expect(tracker).toMatchObject({
        name: 'Time Tracker',
        category: 'Productivity',
        version: '1.0.0',
        price_cents: 999,
        currency: 'EUR',
        install_count: 3,
        rating_count: 2,
        avg_rating: 3.5,
        permissions: ['read:tasks', 'write:tasks', 'read:projects'],
      });
    });

    it('gives each listed plugin its author, as the manifest names it (the same as its detail)', async () => {
      const res = await catalog();
      expect(res.status).toBe(200);
      for (const item of res.body.plugins as Array<{ id: string; author: unknown }>) {
        expect(item.author).toBe('Marketplace');
        const detail = await request(t.url).get(`/api/v1/plugins/${item.id}`).set(power.auth).expect(200);
        expect(detail.body.author).toBe(item.author);
      }
    });

    it('filters by category', async () => {
      expect(ids((await catalog({ category: 'Productivity', sort: 'newest' })).body)).toEqual([
        'github-sync',
        'time-tracker',
      ]);
      expect(ids((await catalog({ category: 'Communication' })).body)).toEqual(['slack-notifier']);
      expect((await catalog({ category: 'Analytics' })).body).toEqual({ plugins: [], total: 0, page: 1 });
      expect((await catalog({ category: 'Nonsense' })).status).toBe(400);
    });

    it('searches name and description in full text (stemmed), combined with the category', async () => {
      expect(ids((await catalog({ q: 'slack' })).body)).toEqual(['slack-notifier']);
      // "report" matches "reports", "pull request" the description's words.
      expect(ids((await catalog({ q: 'report' })).body)).toEqual(['time-tracker']);
      expect(ids((await catalog({ q: 'pull request' })).body)).toEqual(['github-sync']);
      expect(ids((await catalog({ q: 'tasks', sort: 'newest' })).body)).toEqual([
        'github-sync',
        'time-tracker',
      ]);
      expect(ids((await catalog({ q: 'tasks', category: 'Communication' })).body)).toEqual([]);
      expect((await catalog({ q: 'spreadsheets' })).body.total).toBe(0);
      expect((await catalog({ q: '"unbalanced & | !' })).status).toBe(200);
    });

    it('searches through the ix_plugins_search GIN index', async () => {
      const plan = await sql.transaction(async (manager) => {
        await manager.query('SET LOCAL enable_seqscan = off');
        return manager.query<Array<{ 'QUERY PLAN': string }>>(
          `EXPLAIN SELECT id FROM plugins
            WHERE to_tsvector('english', name || ' ' || description) @@ websearch_to_tsquery('english', 'slack')`,
        );
      });
      expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toContain('ix_plugins_search');
    });

    it('sorts by installs, rating and newest, with the id as tie-breaker', async () => {
      expect(ids((await catalog({ sort: 'installs' })).body)).toEqual([
        'time-tracker',
        'slack-notifier',
        'github-sync',
      ]);
      expect(ids((await catalog()).body)).toEqual(['time-tracker', 'slack-notifier', 'github-sync']);
      expect(ids((await catalog({ sort: 'rating' })).body)).toEqual([
        'slack-notifier',
        'time-tracker',
        'github-sync',
      ]);
      // The seeds were released in one transaction: same time, so the id decides.
      expect(ids((await catalog({ sort: 'newest' })).body)).toEqual(SEED_IDS);
      expect((await catalog({ sort: 'downloads' })).status).toBe(400);
    });

    it('pages with a stable order and bounded limit', async () => {
      const first = await catalog({ sort: 'newest', limit: 2, page: 1 });
      const second = await catalog({ sort: 'newest', limit: 2, page: 2 });
      expect(first.body).toMatchObject({ total: 3, page: 1 });
      expect([...ids(first.body), ...ids(second.body)]).toEqual(SEED_IDS);
      expect(second.body).toMatchObject({ total: 3, page: 2 });
      expect((await catalog({ page: 3, limit: 2 })).body).toEqual({ plugins: [], total: 3, page: 3 });
      expect((await catalog({ limit: 101 })).status).toBe(400);
      expect((await catalog({ limit: 0 })).status).toBe(400);
      expect((await catalog({ page: 0 })).status).toBe(400);
    });

    it('keeps the approved version live while a newer one waits for review', async () => {
      await version('github-sync', '1.1.0', 'pending_review');
      const res = await request(t.url).get('/api/v1/plugins/github-sync').set(power.auth);
      expect(res.body.version).toBe('1.0.0');
      expect(res.body.versions.map((v: { version: string }) => v.version)).toEqual(['1.0.0']);
    });
  });

  describe('detail', () => {
    it('gives counts, the live digest and signature, and the approved versions', async () => {
      const res = await request(t.url).get('/api/v1/plugins/time-tracker').set(power.auth);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: 'time-tracker',
        author: 'Marketplace',
        install_count: 3,
        avg_rating: 3.5,
        rating_count: 2,
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        signature: expect.any(String),
      });
      expect(res.body.versions).toEqual([
        expect.objectContaining({ version: '1.0.0', sha256: res.body.sha256, signature: res.body.signature }),
      ]);
    });

    it('shows null avg_rating without ratings', async () => {
      const res = await request(t.url).get('/api/v1/plugins/github-sync').set(power.auth);
      expect(res.body).toMatchObject({ install_count: 0, rating_count: 0, avg_rating: null });
    });

    it.each(['no-such-plugin', 'sheet-pending', 'sheet-rejected', 'sheet-errored', 'sheet-quarantined'])(
      'answers 404 for %s (missing or not visible)',
      async (id) => {
        const res = await request(t.url).get(`/api/v1/plugins/${id}`).set(power.auth);
        expect(res.status).toBe(404);
        expect(res.body.code).toBe('not_found');
      },
    );

    it('answers 400 for an id outside ^[a-z0-9-]+$', async () => {
      const res = await request(t.url).get('/api/v1/plugins/Bad_Id').set(power.auth);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    });
  });

  it('lets the blob sweep run, and the sweep keeps every package a version row references', async () => {
    const report = await t.app.get(BlobSweepService).sweep({ olderThan: new Date(Date.now() + 86_400_000) });
    expect(report).not.toBeNull();
    for (const id of SEED_IDS) {
      const stored = await t.app.get(BlobStore).get(`plugins/${id}/1.0.0.zip`, { start: 0, end: 0 });
      expect(stored).not.toBeNull();
      stored!.stream.destroy();
    }
  });

  describe('signing key and signatures', () => {
    const publicKey = async () => {
      const res = await request(t.url).get('/api/v1/plugins/signing-key');
      expect(res.status).toBe(200);
      expect(res.body.algorithm).toBe('ed25519');
      return createPublicKey({
        key: Buffer.from(res.body.public_key, 'base64'),
        format: 'der',
        type: 'spki',
      });
    };

    it('serves the public key without authentication, the same on every ask', async () => {
      const first = await request(t.url).get('/api/v1/plugins/signing-key');
      const second = await request(t.url).get('/api/v1/plugins/signing-key');
      expect(first.body).toEqual(second.body);
      expect(JSON.stringify(first.body)).not.toMatch(/PRIVATE/);
      expect((await publicKey()).asymmetricKeyType).toBe('ed25519');
    });

    it.each(SEED_IDS)('verifies the stored %s package, and fails on a changed byte', async (id) => {
      const detail = (await request(t.url).get(`/api/v1/plugins/${id}`).set(power.auth)).body;
      const stored = await t.app.get(BlobStore).get(`plugins/${id}/1.0.0.zip`);
      const bytes = await buffer(stored!.stream);
      expect(bytes.subarray(0, 4).toString('hex')).toBe('504b0304');
      const digest = createHash('sha256').update(bytes).digest();
      expect(digest.toString('hex')).toBe(detail.sha256);
      const signature = Buffer.from(detail.signature, 'base64');
      expect(verify(null, digest, await publicKey(), signature)).toBe(true);

      const changed = Buffer.from(bytes);
      changed[changed.length - 30] ^= 0x01;
      const changedDigest = createHash('sha256').update(changed).digest();
      expect(verify(null, changedDigest, await publicKey(), signature)).toBe(false);
    });

    it('keeps one key per deployment in the deployment secrets', async () => {
      const rows = await sql.query(`SELECT value FROM deployment_secrets WHERE name = 'plugin_signing_key'`);
      expect(rows).toHaveLength(1);
      expect(t.logs.text).not.toContain(rows[0].value);
    });
  });
});

describe.each(['files', 's3'] as const)('seed packages on the %s blob driver', (driver) => {
  let s3: LocalS3 | undefined;
  let t: TestApp;

  beforeAll(async () => {
    s3 = driver === 's3' ? await startLocalS3() : undefined;
    t = await startTestApp({ env: { ...(s3?.env ?? {}), RATE_LIMIT_ENABLED: 'false' } });
  });
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
  });

  const state = async () => {
    const signatures = await t.app
      .get(DataSource)
      .query(`SELECT plugin_id, sha256, signature FROM plugin_versions ORDER BY plugin_id`);
    const digests: string[] = [];
    for (const id of SEED_IDS) {
      const stored = await t.app.get(BlobStore).get(`plugins/${id}/1.0.0.zip`);
      digests.push(
        createHash('sha256')
          .update(await buffer(stored!.stream))
          .digest('hex'),
      );
    }
    return { signatures, digests };
  };

  it('stores every seed package at start, and a second start changes nothing', async () => {
    const before = await state();
    expect(before.digests).toEqual(before.signatures.map((row: { sha256: string }) => row.sha256));
    expect(before.signatures.every((row: { signature: string | null }) => row.signature)).toBe(true);
    await t.app.get(PluginSeedsService).onApplicationBootstrap();
    expect(await state()).toEqual(before);
  });
});
