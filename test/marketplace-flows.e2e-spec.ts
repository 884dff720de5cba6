import { createHash, createHmac, createPublicKey, verify } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { CheckRunner, MAX_QUEUED_CHECKS } from '../src/modules/plugin-submissions/check-runner.service.js';
import {
  buildPluginZip,
  buildRawZip,
  codeLikePackage,
  renameEntry,
  sha256Hex,
  unicodePathField,
  validPluginPackage,
} from './support/plugin-package.js';
import { startLocalS3, type LocalS3 } from './support/s3.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';

/**
 * The marketplace's flows through the real API: submission and its automated
 * checks, review and quarantine, installs with signed download links, and
 * ratings. The catalog itself is test/marketplace.e2e-spec.ts.
 */

type Manifest = { id: string; version: string } & Record<string, unknown>;
let counter = 0;

/** A valid manifest with a fresh id (distinct enough from every other that squatting stays quiet). */
function manifest(overrides: Record<string, unknown> = {}): Manifest {
  counter += 1;
  const id = `zq${counter}x-${Math.random().toString(36).slice(2, 10)}`;
  return {
    id,
    name: `Plugin ${id}`,
    description: 'A plugin written by the marketplace flow tests.',
    version: '1.0.0',
    author: 'Flow Tests',
    permissions: ['read:tasks'],
    category: 'Productivity',
    price_cents: 0,
    ...overrides,
  };
}

/** A 10 MiB package of code (seconds of checks), built once: building it takes seconds too. */
let big: { manifest: Manifest; bytes: Buffer } | undefined;
function bigPackage(): { manifest: Manifest; bytes: Buffer } {
  if (big) return big;
  const m = manifest();
  return (big = { manifest: m, bytes: codeLikePackage(m, 10 * 1024 * 1024 - 400 * 1024).bytes });
}

function body(m: Manifest, pkg: Buffer = validPluginPackage(m)) {
  return { manifest: m, package: pkg.toString('base64'), checksum: sha256Hex(pkg) };
}

interface Check {
  check: string;
  status: string;
  code: string;
  message: string;
  file?: string;
  line?: number;
}

const failed = (checks: Check[]) => checks.filter((c) => c.status === 'failed');

async function download(url: string): Promise<{ status: number; bytes: Buffer; code?: string }> {
  const res = await fetch(url);
  const bytes = Buffer.from(await res.arrayBuffer());
  let code: string | undefined;
  if (res.headers.get('content-type')?.includes('json'))
    code = (JSON.parse(bytes.toString()) as { code: string }).code;
  return { status: res.status, bytes, code };
}

describe('plugin marketplace flows', () => {
  let t: TestApp;
  let sql: DataSource;
  let dev: TestUser;
  let admin: TestUser;
  let power: TestUser;

  const submit = (user: TestUser, payload: object) =>
    request(t.url).post('/api/v1/plugins').set(user.auth).send(payload);
  const review = (user: TestUser, id: string, payload: object) =>
    request(t.url).post(`/api/v1/admin/plugins/${id}/review`).set(user.auth).send(payload);
  const install = (user: TestUser, id: string) =>
    request(t.url).post(`/api/v1/plugins/${id}/install`).set(user.auth).send({});

  /** Submits and approves a fresh free plugin by `dev`; answers its manifest. */
  async function approvedPlugin(overrides: Record<string, unknown> = {}): Promise<Manifest> {
    const m = manifest(overrides);
    expect((await submit(dev, body(m))).status).toBe(201);
    expect((await review(admin, m.id, { decision: 'approved' })).status).toBe(200);
    return m;
  }

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_ENABLED: 'false' } });
    sql = t.app.get(DataSource);
    admin = await newUser(t, { tier: 'power', role: 'admin' });
    power = await newUser(t, { tier: 'power' });
  });
  // A fresh author for each test, so the cap on waiting submissions never carries over.
  beforeEach(async () => {
    dev = await newUser(t, { tier: 'power' });
  });
  afterAll(() => t?.close());

  describe('submission', () => {
    it('accepts a clean plugin as pending_review with every check passed, shown to its author only', async () => {
      const m = manifest();
      const res = await submit(dev, body(m));
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ id: m.id, version: '1.0.0', status: 'pending_review' });
      const checks = res.body.checks as Check[];
      expect(new Set(checks.map((c) => c.check))).toEqual(
        new Set(['manifest', 'checksum', 'package', 'secrets', 'squatting']),
      );
      expect(checks.every((c) => c.status === 'passed')).toBe(true);

      const mine = await request(t.url).get('/api/v1/plugins/mine').set(dev.auth);
      expect(mine.body.plugins.find((p: { id: string }) => p.id === m.id)).toMatchObject({
        quarantined: false,
        versions: [{ version: '1.0.0', status: 'pending_review', review_notes: null }],
      });
      // Hidden from everyone else, visible to its author and admins.
      expect((await request(t.url).get(`/api/v1/plugins/${m.id}`).set(power.auth)).status).toBe(404);
      const own = await request(t.url).get(`/api/v1/plugins/${m.id}`).set(dev.auth);
      expect(own.status).toBe(200);
      expect(own.body.versions).toEqual([
        expect.objectContaining({ version: '1.0.0', status: 'pending_review' }),
      ]);
      expect((await request(t.url).get(`/api/v1/plugins/${m.id}`).set(admin.auth)).status).toBe(200);
      const catalog = await request(t.url).get('/api/v1/plugins').query({ limit: 100 }).set(power.auth);
      expect(catalog.body.plugins.map((p: { id: string }) => p.id)).not.toContain(m.id);
    });

    it('answers 400 listing every failed check at once, and stores nothing', async () => {
      const m = manifest({
        version: 'one',
        permissions: ['read:tasks', 'delete:everything'],
        category: 'Games',
      });
      const pkg = validPluginPackage({ ...m, version: '1.0.0' });
      const res = await submit(dev, { ...body(m, pkg), checksum: 'ab'.repeat(32) });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('plugin_checks_failed');
      const codes = failed(res.body.checks).map((c: Check) => c.code);
      expect(codes).toEqual(
        expect.arrayContaining([
          'manifest_invalid_version',
          'manifest_permission_not_allowed',
          'manifest_invalid_category',
          'checksum_mismatch',
        ]),
      );
      const [{ count }] = await sql.query(`SELECT count(*)::int AS count FROM plugins WHERE id = $1`, [m.id]);
      expect(count).toBe(0);
    });

    it.each([
      ['manifest_invalid_id', { id: 'Bad_Id' }],
      ['manifest_invalid_version', { version: '1.0' }],
      ['manifest_permission_not_allowed', { permissions: ['read:passwords'] }],
      ['manifest_invalid_category', { category: 'Casino' }],
      ['manifest_binary_data', { description: `icon: data:image/png;base64,${'iVBORw0KGgo'.repeat(40)}` }],
      ['manifest_unknown_field', { icon_png: 'x' }],
    ])('fails the manifest check with %s', async (code, overrides) => {
      const m = manifest(overrides);
      const res = await submit(dev, body(m, validPluginPackage(manifest({ id: 'placeholder' }))));
      expect(res.status).toBe(400);
      expect(failed(res.body.checks)).toEqual(
        expect.arrayContaining([expect.objectContaining({ check: 'manifest', code })]),
      );
    });

    it('fails the checksum check when the SHA-256 does not match the package', async () => {
      const m = manifest();
      const res = await submit(dev, { ...body(m), checksum: sha256Hex(Buffer.from('other bytes')) });
      expect(res.status).toBe(400);
      expect(failed(res.body.checks)).toEqual([
        expect.objectContaining({ check: 'checksum', code: 'checksum_mismatch' }),
      ]);
    });

    it('fails a package that is not a zip archive', async () => {
      const m = manifest();
      const res = await submit(dev, body(m, Buffer.from('#!/bin/sh\necho not a zip\n')));
      expect(res.status).toBe(400);
      expect(failed(res.body.checks)).toEqual(
        expect.arrayContaining([expect.objectContaining({ check: 'package', code: 'package_not_zip' })]),
      );
    });

    it('fails a package with a ../ path, naming the entry', async () => {
      const m = manifest();
      const zip = buildPluginZip([
        { name: 'manifest.json', content: JSON.stringify(m) },
        { name: 'aa/evil.js', content: 'export {}' },
      ]);
      const res = await submit(dev, body(m, renameEntry(zip, 'aa/evil.js', '../evil.js')));
      expect(res.status).toBe(400);
      expect(failed(res.body.checks)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ check: 'package', code: 'package_path_traversal', file: '../evil.js' }),
        ]),
      );
    });

    it('fails a package with an absolute path', async () => {
      const m = manifest();
      const zip = buildPluginZip([
        { name: 'manifest.json', content: JSON.stringify(m) },
        { name: 'etc-passwd.js', content: 'export {}' },
      ]);
      const res = await submit(dev, body(m, renameEntry(zip, 'etc-passwd.js', '/etc/passwd.j')));
      expect(res.status).toBe(400);
      expect(failed(res.body.checks)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ check: 'package', code: 'package_absolute_path' }),
        ]),
      );
    });

    it('fails a package with a symlink', async () => {
      const m = manifest();
      const zip = buildPluginZip([
        { name: 'manifest.json', content: JSON.stringify(m) },
        { name: 'link', content: '/home/user/.ssh/id_rsa', mode: 0o120777 },
      ]);
      const res = await submit(dev, body(m, zip));
      expect(res.status).toBe(400);
      expect(failed(res.body.checks)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ check: 'package', code: 'package_symlink', file: 'link' }),
        ]),
      );
    });

    it('fails each archive two unzippers would read differently, and a key behind a NUL byte, storing nothing', async () => {
      const awsKeyId = 'AKIA' + 'Q3ZT7WX2LMN4PRS6';
      const cases: Array<{ build: (m: Manifest) => Buffer; code: string }> = [
        {
          code: 'package_name_extra_field',
          build: (m) =>
            buildRawZip([
              { name: 'manifest.json', content: JSON.stringify(m) },
              { name: '../evil.js', content: 'x', centralExtra: unicodePathField('../evil.js', 'evil.js') },
            ]),
        },
        {
          code: 'package_name_mismatch',
          build: (m) =>
            buildRawZip([
              { name: 'manifest.json', content: JSON.stringify(m) },
              { name: 'a.js', localName: '../a.js', content: 'x' },
            ]),
        },
        {
          code: 'package_entry_count_mismatch',
          build: (m) =>
            buildRawZip(
              [
                { name: 'manifest.json', content: JSON.stringify(m) },
                { name: 'index.js', content: 'x' },
                { name: '../x.js', content: 'x' },
              ],
              { endEntryCount: 2 },
            ),
        },
        {
          code: 'package_name_collision',
          build: (m) =>
            buildRawZip([
              { name: 'manifest.json', content: JSON.stringify(m) },
              { name: 'MANIFEST.JSON', content: JSON.stringify({ ...m, id: 'other' }) },
            ]),
        },
        {
          code: 'secret_detected',
          build: (m) =>
            buildPluginZip([
              { name: 'manifest.json', content: JSON.stringify(m) },
              { name: 'data.bin', content: Buffer.concat([Buffer.from([0]), Buffer.from(awsKeyId)]) },
            ]),
        },
      ];
      for (const { build, code } of cases) {
        const m = manifest();
        const res = await submit(dev, body(m, build(m)));
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('plugin_checks_failed');
        expect(failed(res.body.checks).map((c: Check) => c.code)).toContain(code);
        const [{ count }] = await sql.query(`SELECT count(*)::int AS count FROM plugins WHERE id = $1`, [
          m.id,
        ]);
        expect(count).toBe(0);
      }
    });

    it('fails a package holding a fake AWS key, with file and line and without echoing the key', async () => {
      const m = manifest();
      const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY';
      const config = [
        '// deploy settings',
        "export const region = 'eu-west-1';",
        "export const accessKeyId = 'AKIAZ3MSJV4WWNKWW5FG';",
        `export const secretAccessKey = '${secret}';`,
      ].join('\n');
      const zip = buildPluginZip([
        { name: 'manifest.json', content: JSON.stringify(m) },
        { name: 'src/config.js', content: config },
      ]);
      const res = await submit(dev, body(m, zip));
      expect(res.status).toBe(400);
      const secrets = failed(res.body.checks).filter((c: Check) => c.check === 'secrets');
      expect(secrets).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ code: 'secret_detected', file: 'src/config.js', line: 3 }),
        ]),
      );
      expect(JSON.stringify(res.body)).not.toContain('AKIAZ3MSJV4WWNKWW5FG');
      expect(JSON.stringify(res.body)).not.toContain(secret);
    });

    it('fails a package with a high-entropy string, with file and line', async () => {
      const m = manifest();
      const token = 'Zx8Qm2Lr9Vb4Tn7Wk3Hj6Pd1Fs5Gc0Ya8Ue2Ri4Ko9Xw';
      const zip = buildPluginZip([
        { name: 'manifest.json', content: JSON.stringify(m) },
        { name: 'index.js', content: `export function activate() {}\n\nconst t = "${token}";\n` },
      ]);
      const res = await submit(dev, body(m, zip));
      expect(res.status).toBe(400);
      expect(failed(res.body.checks)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            check: 'secrets',
            code: 'high_entropy_string',
            file: 'index.js',
            line: 3,
          }),
        ]),
      );
    });

    it('holds a name close to another author’s plugin for review with name_squatting', async () => {
      const m = manifest({ id: 'github-synk', name: 'GitHub Synk' });
      const res = await submit(dev, body(m));
      expect(res.status).toBe(201);
      expect(res.body.status).toBe('pending_review');
      expect(res.body.checks).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ check: 'squatting', status: 'held', code: 'name_squatting' }),
        ]),
      );
      expect((res.body.checks as Check[]).find((c) => c.code === 'name_squatting')?.message).toContain(
        'github-sync',
      );
      const queue = await request(t.url).get('/api/v1/admin/plugins/review-queue?limit=100').set(admin.auth);
      const item = queue.body.items.find((i: { plugin_id: string }) => i.plugin_id === 'github-synk');
      expect(item.checks).toEqual(
        expect.arrayContaining([expect.objectContaining({ code: 'name_squatting' })]),
      );
    });

    it('keeps answering other requests while a 10 MiB package is checked (on a worker thread)', async () => {
      const { manifest: m, bytes } = bigPackage();
      const checks = t.app.get(CheckRunner).pool;
      let answered = false;
      const submission = submit(dev, body(m, bytes)).then((res) => {
        answered = true;
        return res;
      });
      // Ordering, not timing: once the package is on a worker, health answers before the submission.
      while (checks.stats.busy === 0 && !answered) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(answered).toBe(false);
      const health = await request(t.url).get('/api/v1/health');
      expect(health.status).toBe(200);
      expect(answered).toBe(false);
      expect(checks.stats.busy).toBe(1);
      const res = await submission;
      expect(res.status).toBe(201);
      expect(res.body.status).toBe('pending_review');
      expect((res.body.checks as Check[]).every((c) => c.status === 'passed')).toBe(true);
    }, 60_000);

    it('answers 503 service_unavailable with Retry-After when the checks queue is full, storing nothing', async () => {
      const checks = t.app.get(CheckRunner).pool;
      // A worker ready (a first submission), then busy for seconds with a big package, then a full queue.
      expect((await submit(dev, body(manifest()))).status).toBe(201);
      const job = (m: Manifest, pkg: Buffer) => ({
        manifest: m,
        packageBytes: pkg,
        checksum: sha256Hex(pkg),
        existing: [],
      });
      const big = bigPackage();
      const jobs = [checks.run(job(big.manifest, big.bytes))];
      expect(checks.stats.busy).toBe(1);
      const small = manifest();
      while (checks.stats.queued < MAX_QUEUED_CHECKS)
        jobs.push(checks.run(job(small, validPluginPackage(small))));
      const m = manifest();
      const res = await submit(dev, body(m));
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('service_unavailable');
      expect(res.headers['retry-after']).toBe('5');
      await Promise.all(jobs);
      const [{ count }] = await sql.query(`SELECT count(*)::int AS count FROM plugins WHERE id = $1`, [m.id]);
      expect(count).toBe(0);
    }, 60_000);

    it('refuses a body over the size limit with 413 and a non-base64 package with 400', async () => {
      const m = manifest();
      const huge = await submit(dev, {
        manifest: m,
        package: 'A'.repeat(15 * 1024 * 1024),
        checksum: 'ab'.repeat(32),
      });
      expect(huge.status).toBe(413);
      expect(huge.body.code).toBe('payload_too_large');
      const bad = await submit(dev, { manifest: m, package: '***', checksum: 'ab'.repeat(32) });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('validation_failed');
    });

    it('keeps an id for its first author: 409 plugin_id_taken for others, 409 duplicate for the author', async () => {
      const m = manifest();
      expect((await submit(dev, body(m))).status).toBe(201);
      const other = await newUser(t);
      const taken = await submit(other, body(m));
      expect(taken.status).toBe(409);
      expect(taken.body.code).toBe('plugin_id_taken');
      const again = await submit(dev, body({ ...m, version: '1.0.1' }));
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('duplicate');
      expect(again.body.message).toContain(`/plugins/${m.id}/versions`);
    });

    it('takes new versions from the author only, each version number once', async () => {
      const m = await approvedPlugin();
      const v2 = { ...m, version: '1.1.0' };
      const other = await newUser(t, { tier: 'power' });
      const foreign = await request(t.url)
        .post(`/api/v1/plugins/${m.id}/versions`)
        .set(other.auth)
        .send(body(v2));
      expect(foreign.status).toBe(403);
      const unknown = await request(t.url)
        .post('/api/v1/plugins/no-such-plugin/versions')
        .set(dev.auth)
        .send(body(v2));
      expect(unknown.status).toBe(404);
      const mismatch = await request(t.url)
        .post(`/api/v1/plugins/${m.id}/versions`)
        .set(dev.auth)
        .send(body({ ...v2, id: `${m.id}-other` }));
      expect(mismatch.status).toBe(400);
      expect(failed(mismatch.body.checks).map((c: Check) => c.code)).toContain('manifest_id_mismatch');

      const ok = await request(t.url).post(`/api/v1/plugins/${m.id}/versions`).set(dev.auth).send(body(v2));
      expect(ok.status).toBe(201);
      const twice = await request(t.url)
        .post(`/api/v1/plugins/${m.id}/versions`)
        .set(dev.auth)
        .send(body(v2));
      expect(twice.status).toBe(409);
      // The approved version stays live while 1.1.0 waits.
      const detail = await request(t.url).get(`/api/v1/plugins/${m.id}`).set(power.auth);
      expect(detail.body.version).toBe('1.0.0');
      expect(detail.body.versions.map((v: { version: string }) => v.version)).toEqual(['1.0.0']);
    });

    it('holds at most 5 waiting submissions per account, also when they arrive at once', async () => {
      const author = await newUser(t);
      const answers = await Promise.all(Array.from({ length: 8 }, () => submit(author, body(manifest()))));
      expect(answers.filter((r) => r.status === 201)).toHaveLength(5);
      // The rest: over the cap once the others are stored (400 limit_reached), or refused at the door
      // while the account already had its 5 in the checks queue (429 rate_limited, Retry-After).
      for (const refused of answers.filter((r) => r.status !== 201)) {
        expect([
          [400, 'limit_reached'],
          [429, 'rate_limited'],
        ]).toContainEqual([refused.status, refused.body.code]);
        if (refused.status === 429) expect(refused.headers['retry-after']).toBe('5');
      }
      const mine = await request(t.url).get('/api/v1/plugins/mine').set(author.auth);
      expect(mine.body.plugins).toHaveLength(5);
    });
  });

  describe('review', () => {
    it('approves: the plugin goes live, signed, and the decision is audited', async () => {
      const m = manifest();
      const pkg = validPluginPackage(m);
      await submit(dev, body(m, pkg));
      const queue = await request(t.url).get('/api/v1/admin/plugins/review-queue?limit=100').set(admin.auth);
      expect(queue.status).toBe(200);
      const item = queue.body.items.find((i: { plugin_id: string }) => i.plugin_id === m.id);
      expect(item).toMatchObject({
        version: '1.0.0',
        author_id: dev.id,
        author_email: dev.email,
        sha256: sha256Hex(pkg),
      });
      expect(item.checks.length).toBeGreaterThan(0);

      const res = await review(admin, m.id, { decision: 'approved' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ plugin_id: m.id, version: '1.0.0', status: 'approved' });

      const detail = await request(t.url).get(`/api/v1/plugins/${m.id}`).set(power.auth);
      expect(detail.status).toBe(200);
      const key = await request(t.url).get('/api/v1/plugins/signing-key');
      const publicKey = createPublicKey({
        key: Buffer.from(key.body.public_key, 'base64'),
        format: 'der',
        type: 'spki',
      });
      const digest = createHash('sha256').update(pkg).digest();
      expect(verify(null, digest, publicKey, Buffer.from(detail.body.signature, 'base64'))).toBe(true);
      const changed = Buffer.from(pkg);
      changed[10] ^= 1;
      const changedDigest = createHash('sha256').update(changed).digest();
      expect(verify(null, changedDigest, publicKey, Buffer.from(detail.body.signature, 'base64'))).toBe(
        false,
      );

      const [audit] = await sql.query(
        `SELECT actor_id, subject_id, data FROM audit_log WHERE event_type = 'plugin.approved' AND data->>'plugin_id' = $1`,
        [m.id],
      );
      expect(audit).toMatchObject({ actor_id: admin.id, subject_id: dev.id, data: { version: '1.0.0' } });
      const again = await review(admin, m.id, { decision: 'rejected', notes: 'late' });
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('already_reviewed');
    });

    it('rejects with notes the author reads, audited; a rejection without notes is 400', async () => {
      const m = manifest();
      await submit(dev, body(m));
      const bare = await review(admin, m.id, { decision: 'rejected' });
      expect(bare.status).toBe(400);
      const res = await review(admin, m.id, {
        decision: 'rejected',
        notes: 'Asks for write:notes it never uses.',
      });
      expect(res.status).toBe(200);
      const mine = await request(t.url).get('/api/v1/plugins/mine').set(dev.auth);
      expect(mine.body.plugins.find((p: { id: string }) => p.id === m.id).versions[0]).toMatchObject({
        status: 'rejected',
        review_notes: 'Asks for write:notes it never uses.',
      });
      const [audit] = await sql.query(
        `SELECT reason FROM audit_log WHERE event_type = 'plugin.rejected' AND data->>'plugin_id' = $1`,
        [m.id],
      );
      expect(audit.reason).toBe('Asks for write:notes it never uses.');
      expect((await request(t.url).get(`/api/v1/plugins/${m.id}`).set(power.auth)).status).toBe(404);
    });

    it('refuses a review of one’s own plugin and reviews by non-admins', async () => {
      const m = manifest();
      await submit(admin, body(m));
      const own = await review(admin, m.id, { decision: 'approved' });
      expect(own.status).toBe(403);
      expect(own.body.code).toBe('forbidden');
      const user = await review(dev, m.id, { decision: 'approved' });
      expect(user.status).toBe(403);
      expect(user.body.code).toBe('role_required');
      const other = await newUser(t, { role: 'admin' });
      expect((await review(other, m.id, { decision: 'approved' })).status).toBe(200);
    });

    it('quarantines: hidden at once, links stop working, installs stay recorded, audited', async () => {
      const m = await approvedPlugin();
      const installed = await install(power, m.id);
      expect(installed.status).toBe(200);
      expect((await download(installed.body.download_url)).status).toBe(200);

      const q = await request(t.url)
        .post(`/api/v1/admin/plugins/${m.id}/quarantine`)
        .set(admin.auth)
        .send({ reason: 'Sends notes to a third party' });
      expect(q.status).toBe(200);
      expect(q.body).toMatchObject({ ok: true, plugin_id: m.id, downloads_revoked: true });
      expect((await request(t.url).get(`/api/v1/plugins/${m.id}`).set(power.auth)).status).toBe(404);
      expect((await download(installed.body.download_url)).status).toBe(404);
      expect((await install(power, m.id)).status).toBe(404);
      const list = await request(t.url).get('/api/v1/plugins/installed').set(power.auth);
      expect(list.body.plugins.find((p: { id: string }) => p.id === m.id)).toMatchObject({
        quarantined: true,
      });
      const [audit] = await sql.query(
        `SELECT actor_id, reason FROM audit_log WHERE event_type = 'plugin.quarantined' AND data->>'plugin_id' = $1`,
        [m.id],
      );
      expect(audit).toEqual({ actor_id: admin.id, reason: 'Sends notes to a third party' });
      const mine = await request(t.url).get('/api/v1/plugins/mine').set(dev.auth);
      expect(mine.body.plugins.find((p: { id: string }) => p.id === m.id)).toMatchObject({
        quarantined: true,
        quarantine_reason: 'Sends notes to a third party',
      });
    });
  });

  describe('installs', () => {
    it('gives a 5-minute link to the exact signed bytes; installing twice is one install', async () => {
      const m = await approvedPlugin();
      const sentAt = Date.now();
      const first = await install(power, m.id);
      const answeredAt = Date.now();
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ ok: true, version: '1.0.0' });
      // Five minutes from when the server made it: between the request's sending and its answer.
      expect(first.body.expires_at).toBeGreaterThanOrEqual(sentAt + 300_000);
      expect(first.body.expires_at).toBeLessThanOrEqual(answeredAt + 300_000);
      const got = await download(first.body.download_url);
      expect(got.status).toBe(200);
      expect(sha256Hex(got.bytes)).toBe(first.body.sha256);
      const key = await request(t.url).get('/api/v1/plugins/signing-key');
      const publicKey = createPublicKey({
        key: Buffer.from(key.body.public_key, 'base64'),
        format: 'der',
        type: 'spki',
      });
      expect(
        verify(
          null,
          createHash('sha256').update(got.bytes).digest(),
          publicKey,
          Buffer.from(first.body.signature, 'base64'),
        ),
      ).toBe(true);

      expect((await install(power, m.id)).status).toBe(200);
      const detail = await request(t.url).get(`/api/v1/plugins/${m.id}`).set(power.auth);
      expect(detail.body.install_count).toBe(1);
      const installed = await request(t.url).get('/api/v1/plugins/installed').set(power.auth);
      expect(installed.body.plugins.filter((p: { id: string }) => p.id === m.id)).toHaveLength(1);
    });

    it('refuses an altered link (link_invalid) and an expired one (link_expired) with 403', async () => {
      const m = await approvedPlugin();
      const { body: res } = await install(power, m.id);
      const url = new URL(res.download_url as string);
      const altered = new URL(url);
      altered.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 60_000));
      expect(await download(altered.toString())).toMatchObject({ status: 403, code: 'link_invalid' });
      const otherUser = new URL(url);
      otherUser.searchParams.set('user', dev.id);
      expect(await download(otherUser.toString())).toMatchObject({ status: 403, code: 'link_invalid' });

      // A link the registry did sign, whose five minutes are over.
      const [{ value }] = await sql.query(
        `SELECT value FROM deployment_secrets WHERE name = 'plugin_download_key'`,
      );
      const versionId = url.pathname.split('/').pop()!;
      const expires = Date.now() - 1000;
      const signature = createHmac('sha256', Buffer.from(value as string, 'hex'))
        .update(`${versionId}\n${power.id}\n${expires}`)
        .digest('base64url');
      const expired = new URL(url);
      expired.searchParams.set('expires', String(expires));
      expired.searchParams.set('signature', signature);
      expect(await download(expired.toString())).toMatchObject({ status: 403, code: 'link_expired' });
    });

    it('counts exactly under 20 concurrent installs, and uninstall is idempotent', async () => {
      const m = await approvedPlugin();
      const users = await Promise.all(Array.from({ length: 20 }, () => newUser(t, { tier: 'power' })));
      const answers = await Promise.all(users.flatMap((u) => [install(u, m.id), install(u, m.id)]));
      expect(answers.every((r) => r.status === 200)).toBe(true);
      const detail = await request(t.url).get(`/api/v1/plugins/${m.id}`).set(power.auth);
      expect(detail.body.install_count).toBe(20);

      for (let i = 0; i < 2; i += 1) {
        const res = await request(t.url).delete(`/api/v1/plugins/${m.id}/install`).set(users[0].auth);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ ok: true });
      }
      const after = await request(t.url).get(`/api/v1/plugins/${m.id}`).set(power.auth);
      expect(after.body.install_count).toBe(19);
    });

    it('stops a link once its user uninstalled', async () => {
      const m = await approvedPlugin();
      const res = await install(power, m.id);
      await request(t.url).delete(`/api/v1/plugins/${m.id}/install`).set(power.auth);
      expect((await download(res.body.download_url)).status).toBe(404);
    });

    it('refuses paid plugins without Stripe (503), unknown ones (404), a mismatched body (400) and tiers below power (403)', async () => {
      // Buying is test/paid-plugins.e2e-spec.ts; this server has no Stripe configured.
      const paid = await install(power, 'time-tracker');
      expect(paid.status).toBe(503);
      expect(paid.body.code).toBe('feature_not_configured');
      expect((await install(power, 'no-such-plugin')).status).toBe(404);
      const mismatch = await request(t.url)
        .post('/api/v1/plugins/github-sync/install')
        .set(power.auth)
        .send({ plugin_id: 'time-tracker' });
      expect(mismatch.status).toBe(400);
      const free = await newUser(t, { tier: 'free' });
      const gated = await install(free, 'github-sync');
      expect(gated.status).toBe(403);
      expect(gated.body.code).toBe('tier_required');
    });
  });

  describe('ratings', () => {
    it('takes ratings only from users who installed the plugin, one per user', async () => {
      const m = await approvedPlugin();
      const rate = (user: TestUser, payload: object) =>
        request(t.url).post(`/api/v1/plugins/${m.id}/ratings`).set(user.auth).send(payload);
      const stranger = await rate(power, { stars: 5 });
      expect(stranger.status).toBe(403);
      expect(stranger.body.code).toBe('forbidden');
      await install(power, m.id);
      for (const bad of [
        { stars: 0 },
        { stars: 6 },
        { stars: 2.5 },
        { stars: 4, comment: 'x'.repeat(2001) },
      ]) {
        expect((await rate(power, bad)).status).toBe(400);
      }
      expect((await rate(power, { stars: 2, comment: 'meh' })).body).toMatchObject({
        avg_rating: 2,
        rating_count: 1,
      });
      const replaced = await rate(power, { stars: 4, comment: '<script>alert(1)</script> better now' });
      expect(replaced.status).toBe(201);
      expect(replaced.body).toMatchObject({ stars: 4, avg_rating: 4, rating_count: 1 });
      const list = await request(t.url).get(`/api/v1/plugins/${m.id}/ratings`).set(dev.auth);
      expect(list.headers['content-type']).toMatch(/^application\/json/);
      expect(list.body).toMatchObject({
        total: 1,
        items: [{ stars: 4, comment: '<script>alert(1)</script> better now' }],
      });
      expect(JSON.stringify(list.body)).not.toContain(power.id);
    });

    it('keeps avg_rating and rating_count exact under concurrent ratings', async () => {
      const m = await approvedPlugin();
      const users = await Promise.all(Array.from({ length: 20 }, () => newUser(t, { tier: 'power' })));
      await Promise.all(users.map((u) => install(u, m.id)));
      const stars = users.map((_, i) => (i % 5) + 1);
      const answers = await Promise.all(
        users.flatMap((u, i) => [
          request(t.url).post(`/api/v1/plugins/${m.id}/ratings`).set(u.auth).send({ stars: 1 }),
          request(t.url).post(`/api/v1/plugins/${m.id}/ratings`).set(u.auth).send({ stars: stars[i] }),
        ]),
      );
      expect(answers.every((r) => r.status === 201)).toBe(true);
      const detail = await request(t.url).get(`/api/v1/plugins/${m.id}`).set(power.auth);
      expect(detail.body.rating_count).toBe(20);
      // Each user's last write wins, whichever of their two landed last: the mean is between all-1 and the stars.
      const [{ avg }] = await sql.query(
        `SELECT round(avg(stars), 2)::float8 AS avg FROM plugin_ratings WHERE plugin_id = $1`,
        [m.id],
      );
      expect(detail.body.avg_rating).toBe(avg);
    });
  });

  describe('ownership', () => {
    it('refuses every id route on another account’s plugin or install', async () => {
      const m = manifest();
      await submit(dev, body(m));
      const other = await newUser(t, { tier: 'power' });
      const id = m.id;
      const answers = {
        detail: (await request(t.url).get(`/api/v1/plugins/${id}`).set(other.auth)).status,
        version: (
          await request(t.url)
            .post(`/api/v1/plugins/${id}/versions`)
            .set(other.auth)
            .send(body({ ...m, version: '2.0.0' }))
        ).status,
        install: (await install(other, id)).status,
        rate: (await request(t.url).post(`/api/v1/plugins/${id}/ratings`).set(other.auth).send({ stars: 5 }))
          .status,
        ratings: (await request(t.url).get(`/api/v1/plugins/${id}/ratings`).set(other.auth)).status,
        review: (await review(other, id, { decision: 'approved' })).status,
        quarantine: (
          await request(t.url)
            .post(`/api/v1/admin/plugins/${id}/quarantine`)
            .set(other.auth)
            .send({ reason: 'x' })
        ).status,
      };
      expect(answers).toEqual({
        detail: 404,
        version: 403,
        install: 404,
        rate: 404,
        ratings: 404,
        review: 403,
        quarantine: 403,
      });
      const mine = await request(t.url).get('/api/v1/plugins/mine').set(other.auth);
      expect(mine.body.plugins).toEqual([]);
    });
  });
});

describe('plugin marketplace: checks that cannot complete fail closed', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_ENABLED: 'false', PLUGIN_CHECKS_TIMEOUT_MS: '1' } });
  });
  afterAll(() => t?.close());

  it('stores a submission whose checks time out as checks_errored, which can be rejected but not approved', async () => {
    const dev = await newUser(t, { tier: 'power' });
    const admin = await newUser(t, { role: 'admin' });
    const m = manifest();
    const files = Array.from({ length: 200 }, (_, i) => ({
      name: `src/f${i}.js`,
      content: `export const v${i} = ${i};\n`.repeat(200),
    }));
    const pkg = buildPluginZip([{ name: 'manifest.json', content: JSON.stringify(m) }, ...files]);
    const res = await request(t.url).post('/api/v1/plugins').set(dev.auth).send(body(m, pkg));
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('checks_errored');
    expect((res.body.checks as Check[]).some((c) => c.status === 'errored')).toBe(true);
    expect((res.body.checks as Check[]).some((c) => c.check === 'secrets' && c.status === 'passed')).toBe(
      false,
    );

    const approve = await request(t.url)
      .post(`/api/v1/admin/plugins/${m.id}/review`)
      .set(admin.auth)
      .send({ decision: 'approved' });
    expect(approve.status).toBe(409);
    const reject = await request(t.url)
      .post(`/api/v1/admin/plugins/${m.id}/review`)
      .set(admin.auth)
      .send({ decision: 'rejected', notes: 'Checks did not complete; submit again.' });
    expect(reject.status).toBe(200);
  });
});

describe('plugin marketplace on S3: presigned download links', () => {
  let s3: LocalS3;
  let t: TestApp;
  beforeAll(async () => {
    s3 = await startLocalS3();
    t = await startTestApp({ env: { RATE_LIMIT_ENABLED: 'false', ...s3.env } });
  });
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
  });

  it('serves the package from a 5-minute presigned URL that dies with quarantine', async () => {
    const dev = await newUser(t, { tier: 'power' });
    const admin = await newUser(t, { role: 'admin' });
    const user = await newUser(t, { tier: 'power' });
    const m = manifest();
    const pkg = validPluginPackage(m);
    expect((await request(t.url).post('/api/v1/plugins').set(dev.auth).send(body(m, pkg))).status).toBe(201);
    await request(t.url)
      .post(`/api/v1/admin/plugins/${m.id}/review`)
      .set(admin.auth)
      .send({ decision: 'approved' });
    const res = await request(t.url).post(`/api/v1/plugins/${m.id}/install`).set(user.auth).send({});
    expect(res.status).toBe(200);
    const url = new URL(res.body.download_url as string);
    expect(url.origin).toBe(s3.endpoint);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    const got = await download(url.toString());
    expect(got.status).toBe(200);
    expect(got.bytes.equals(pkg)).toBe(true);

    // s3rver checks a V4 presigned URL's expiry but not its signature (S3 checks both): the expiry is
    // what can be shown here, by dating the URL five minutes and a second back.
    const signedAt = url.searchParams.get('X-Amz-Date')!;
    const iso = `${signedAt.slice(0, 4)}-${signedAt.slice(4, 6)}-${signedAt.slice(6, 11)}:${signedAt.slice(11, 13)}:${signedAt.slice(13)}`;
    const past = new Date(Date.parse(iso) - 301_000).toISOString().replace(/[-:]|\.\d+/g, '');
    const expired = new URL(url);
    expired.searchParams.set('X-Amz-Date', past);
    expect((await download(expired.toString())).status).toBe(403);

    await request(t.url)
      .post(`/api/v1/admin/plugins/${m.id}/quarantine`)
      .set(admin.auth)
      .send({ reason: 'malware' });
    // The package moved to a new key: the link given out before answers 404.
    expect((await download(url.toString())).status).toBe(404);
  });
});
