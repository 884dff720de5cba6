import { createHash, randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { BlobStore } from '../src/common/blob-store/blob-store.js';
import { blobKeysUnder, tablesMentioning } from './support/database-scan.js';
import { FakeStripe } from './support/fake-stripe.js';
import { validPluginPackage } from './support/plugin-package.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';

/**
 * Account erasure as the people around the account notice it: Stripe (the
 * real `stripe` library against a local server speaking its API), the sales
 * ledger, the catalogue, the background timer, a run that died part-way, and
 * the routes under an attacker's eye. The timer runs every 50 ms here; a test
 * makes an erasure due by moving its scheduled time into the past.
 */

const WEBHOOK_SECRET = 'whsec_test_account_erasure';
const CONNECT_SECRET = 'whsec_test_account_erasure_connect';
const stripe = new Stripe('sk_test_unused');
type Obj = Record<string, unknown>;
const now = () => Math.floor(Date.now() / 1000);
const rid = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const event = (type: string, object: Obj): Obj => ({
  id: rid('evt'),
  object: 'event',
  api_version: '2026-10-28.endive',
  created: now(),
  type,
  data: { object },
  livemode: false,
});

/** Polls `probe` until it answers something; for state a background job reaches, never a timed assertion. */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('account erasure, as the world around the account sees it', () => {
  const fake = new FakeStripe();
  let t: TestApp;
  let db: DataSource;
  let blobs: BlobStore;
  let admin: TestUser;
  let counter = 0;
  const api = () => request(t.url);

  beforeAll(async () => {
    await fake.start();
    t = await startTestApp({
      env: {
        STRIPE_SECRET_KEY: FakeStripe.SECRET_KEY,
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_SECRET,
        STRIPE_API_URL: fake.url,
        RATE_LIMIT_ENABLED: 'false',
        AUTH_RATE_LIMIT_PER_IP: '10000',
        BLOB_SWEEP_INTERVAL_MS: '0',
        ACCOUNT_JOBS_INTERVAL_MS: '50',
      },
    });
    db = t.app.get(DataSource);
    blobs = t.app.get(BlobStore);
    admin = await newUser(t, { tier: 'power', role: 'admin' });
  });
  afterAll(async () => {
    await t?.close();
    await fake.stop();
  });
  afterEach(() => fake.clearFailures());

  const webhook = (payload: Obj, secret = WEBHOOK_SECRET) => {
    const body = JSON.stringify(payload);
    return api()
      .post('/api/v1/billing/webhook')
      .set('Content-Type', 'application/json')
      .set('Stripe-Signature', stripe.webhooks.generateTestHeaderString({ payload: body, secret }))
      .send(body);
  };
  const signIn = async (u: TestUser): Promise<TestUser> => {
    const res = await api()
      .post('/api/v1/auth/login')
      .send({ email: u.email, password: u.password })
      .expect(200);
    return { ...u, tokens: res.body, auth: { Authorization: `Bearer ${res.body.access_token}` } };
  };
  const deleteAccount = async (u: TestUser): Promise<string> =>
    (await api().delete('/api/v1/account').set(u.auth).send({ password: u.password }).expect(202)).body
      .erasure_id as string;
  /** The grace period is over: the erasure is due, and the timer takes it. */
  const makeDue = (erasureId: string) =>
    db.query(`UPDATE account_erasures SET scheduled_for = now() - interval '1 second' WHERE id = $1`, [
      erasureId,
    ]);
  /** The erasure as admins see it in GET /admin/erasures. */
  const erasureSeen = async (erasureId: string): Promise<Obj | undefined> => {
    for (let page = 1; ; page++) {
      const res = await api()
        .get(`/api/v1/admin/erasures?limit=100&page=${page}`)
        .set(admin.auth)
        .expect(200);
      const found = (res.body.items as Obj[]).find((item) => item.id === erasureId);
      if (found || res.body.items.length < 100) return found;
    }
  };
  const erasureIn = (erasureId: string, status: string) =>
    eventually(async () => {
      const seen = await erasureSeen(erasureId);
      return seen?.status === status ? seen : undefined;
    }, `erasure ${erasureId} ${status}`);
  const eraseNow = async (u: TestUser): Promise<Obj> => {
    const id = await deleteAccount(u);
    await makeDue(id);
    return erasureIn(id, 'completed');
  };
  const expectNoTrace = async (u: TestUser) => {
    expect(await tablesMentioning(db, u.id)).toEqual([]);
    expect(await tablesMentioning(db, u.email)).toEqual([]);
    expect(await blobKeysUnder(blobs, `${u.id}/`)).toEqual([]);
  };

  /** A user who went through checkout: a Stripe customer and an active subscription. */
  async function subscriber(): Promise<{ u: TestUser; customer: string; subscription: string }> {
    const u = await newUser(t);
    await api().post('/api/v1/billing/checkout').set(u.auth).send({ tier: 'pro' }).expect(200);
    const [{ stripe_customer_id: customer }] = await db.query<Array<{ stripe_customer_id: string }>>(
      'SELECT stripe_customer_id FROM users WHERE id = $1',
      [u.id],
    );
    const subscription = rid('sub');
    await webhook(
      event('checkout.session.completed', {
        id: rid('cs'),
        object: 'checkout.session',
        client_reference_id: u.id,
        customer,
        subscription,
        metadata: { user_id: u.id, tier: 'pro' },
      }),
    ).expect(200);
    return { u, customer, subscription };
  }

  /** A plugin of `developer`, submitted and approved: free unless `price`. */
  async function plugin(developer: TestUser, price = 0): Promise<{ id: string; name: string }> {
    counter += 1;
    const id = `erasure-${counter}-${randomBytes(3).toString('hex')}`;
    const name = `Erasure test ${id}`;
    const manifest = {
      id,
      name,
      description: 'A plugin of the account erasure tests.',
      version: '1.0.0',
      author: `Dev ${developer.email}`,
      permissions: ['read:tasks'],
      category: 'Productivity',
      price_cents: price,
    };
    const pkg = validPluginPackage(manifest);
    await api()
      .post('/api/v1/plugins')
      .set(developer.auth)
      .send({ manifest, package: pkg.toString('base64'), checksum: sha(pkg) })
      .expect(201);
    await api()
      .post(`/api/v1/admin/plugins/${id}/review`)
      .set(admin.auth)
      .send({ decision: 'approved' })
      .expect(200);
    return { id, name };
  }
  const install = (u: TestUser, pluginId: string) =>
    api().post(`/api/v1/plugins/${pluginId}/install`).set(u.auth).send({}).expect(200);
  const detail = async (u: TestUser, pluginId: string) =>
    (await api().get(`/api/v1/plugins/${pluginId}`).set(u.auth).expect(200)).body as Obj;
  const listed = async (u: TestUser, name: string) =>
    (
      (await api().get('/api/v1/plugins').query({ q: name, limit: 100 }).set(u.auth).expect(200)).body
        .plugins as Obj[]
    ).filter((p) => p.name === name);

  describe('Stripe', () => {
    it('stops the renewal at deletion, renews again on restore, and deletes the customer when the timer erases', async () => {
      const { u, customer, subscription } = await subscriber();
      const renewals = () =>
        fake.subscriptionUpdates.filter((update) => update.id === subscription).map((update) => update.form);

      await deleteAccount(u);
      expect(renewals()).toEqual([expect.objectContaining({ cancel_at_period_end: 'true' })]);
      await api().post('/api/v1/account/restore').send({ email: u.email, password: u.password }).expect(200);
      expect(renewals()).toEqual([
        expect.objectContaining({ cancel_at_period_end: 'true' }),
        expect.objectContaining({ cancel_at_period_end: 'false' }),
      ]);
      const back = await signIn(u);
      const seen = await api().get('/api/v1/billing/subscription').set(back.auth).expect(200);
      expect(seen.body).toMatchObject({ tier: 'pro', cancel_at_period_end: false });

      // Deleted again; once the grace period is over the timer erases it, with no admin involved.
      const erasureId = await deleteAccount(back);
      expect(fake.deletedCustomers).not.toContain(customer);
      await makeDue(erasureId);
      await erasureIn(erasureId, 'completed');
      expect(fake.deletedCustomers.filter((id) => id === customer)).toEqual([customer]);
      expect(fake.customers.get(customer)).toEqual({ id: customer, object: 'customer', deleted: true });
      await expectNoTrace(u);
    });
  });

  describe('sales ledger', () => {
    it('keeps the buyer’s and the developer’s ledger rows and payouts under their pseudonyms, adding up as before', async () => {
      const dev = await newUser(t, { tier: 'power' });
      await api().post('/api/v1/plugins/developer/connect').set(dev.auth).expect(200);
      const [{ stripe_account_id: account }] = await db.query<Array<{ stripe_account_id: string }>>(
        'SELECT stripe_account_id FROM plugin_developer_accounts WHERE user_id = $1',
        [dev.id],
      );
      await webhook(
        { ...event('account.updated', fake.setPayoutsEnabled(account, true)), account },
        CONNECT_SECRET,
      ).expect(200);
      const paid = await plugin(dev, 499);
      const { u: buyer, customer } = await subscriber();
      fake.setDefaultPaymentMethod(customer, 'pm_card_visa');
      await db.query(`UPDATE users SET tier_override = 'power' WHERE id = $1`, [buyer.id]);
      await install(buyer, paid.id);
      const period = new Date().toISOString().slice(0, 7);
      const payouts = await api()
        .post('/api/v1/admin/plugins/payouts')
        .set(admin.auth)
        .send({ period })
        .expect(200);
      expect(payouts.body.paid).toEqual([
        expect.objectContaining({ developer_id: dev.id, amount_cents: 349 }),
      ]);

      const ledger = () =>
        db.query<Obj[]>(
          `SELECT developer_id, buyer_id, count(*)::int AS lines, sum(amount_cents)::int AS amount,
                  sum(developer_share_cents)::int AS developer, sum(platform_share_cents)::int AS platform
             FROM plugin_revenue_events WHERE plugin_id = $1 GROUP BY developer_id, buyer_id`,
          [paid.id],
        );
      const payoutsOf = (developerId: string) =>
        db.query<Obj[]>(
          `SELECT count(*)::int AS payouts, sum(amount_cents)::int AS amount FROM plugin_payouts WHERE developer_id = $1`,
          [developerId],
        );
      expect(await ledger()).toEqual([
        { developer_id: dev.id, buyer_id: buyer.id, lines: 1, amount: 499, developer: 349, platform: 150 },
      ]);
      expect(await payoutsOf(dev.id)).toEqual([{ payouts: 1, amount: 349 }]);

      const buyerErased = await eraseNow(buyer);
      const devErased = await eraseNow(dev);
      expect(await ledger()).toEqual([
        {
          developer_id: devErased.pseudonym,
          buyer_id: buyerErased.pseudonym,
          lines: 1,
          amount: 499,
          developer: 349,
          platform: 150,
        },
      ]);
      expect(await payoutsOf(devErased.pseudonym as string)).toEqual([{ payouts: 1, amount: 349 }]);
      await expectNoTrace(buyer);
      await expectNoTrace(dev);

      // The next payout run pays nobody twice and stumbles on nothing.
      const transfers = fake.transfers.size;
      const again = await api()
        .post('/api/v1/admin/plugins/payouts')
        .set(admin.auth)
        .send({ period })
        .expect(200);
      expect(again.body.failed).toEqual([]);
      expect(again.body.paid).toEqual([]);
      expect(fake.transfers.size).toBe(transfers);
    });
  });

  describe('catalogue', () => {
    it('removes the ratings and installs (averages recomputed); unlists a plugin others installed, deletes one nobody did', async () => {
      const dev = await newUser(t, { tier: 'power' });
      const fan = await newUser(t, { tier: 'power' });
      const critic = await newUser(t, { tier: 'power' });
      const kept = await plugin(dev);
      const dropped = await plugin(dev);
      for (const [who, stars] of [
        [fan, 5],
        [critic, 1],
      ] as const) {
        await install(who, kept.id);
        await api().post(`/api/v1/plugins/${kept.id}/ratings`).set(who.auth).send({ stars }).expect(201);
      }
      expect(await detail(fan, kept.id)).toMatchObject({ avg_rating: 3, rating_count: 2, install_count: 2 });

      await eraseNow(critic);
      expect(await detail(fan, kept.id)).toMatchObject({ avg_rating: 5, rating_count: 1, install_count: 1 });
      expect(await listed(fan, kept.name)).toEqual([
        expect.objectContaining({ id: kept.id, avg_rating: 5, rating_count: 1, install_count: 1 }),
      ]);
      const ratings = await api().get(`/api/v1/plugins/${kept.id}/ratings`).set(fan.auth).expect(200);
      expect(JSON.stringify(ratings.body)).not.toContain(critic.id);

      const [{ blob_key: droppedKey }] = await db.query<Array<{ blob_key: string }>>(
        'SELECT blob_key FROM plugin_versions WHERE plugin_id = $1',
        [dropped.id],
      );
      await eraseNow(dev);
      expect(await listed(fan, kept.name)).toEqual([]);
      const still = await detail(fan, kept.id);
      expect(still).toMatchObject({ id: kept.id, author: 'Erased account', install_count: 1 });
      const installed = await api().get('/api/v1/plugins/installed').set(fan.auth).expect(200);
      expect(JSON.stringify(installed.body)).toContain(kept.id);
      const link = await install(fan, kept.id);
      const bytes = Buffer.from(await (await fetch(link.body.download_url as string)).arrayBuffer());
      expect(sha(bytes)).toBe(link.body.sha256);
      await api().get(`/api/v1/plugins/${dropped.id}`).set(fan.auth).expect(404);
      expect(await blobKeysUnder(blobs, droppedKey)).toEqual([]);
      await expectNoTrace(dev);
      await expectNoTrace(critic);
    });
  });

  describe('restartable', () => {
    it('resumes a run that died holding its lease: the finished participants are not redone, the rest complete', async () => {
      const { u, customer } = await subscriber();
      const bytes = randomBytes(2000);
      await api()
        .post('/api/v1/storage/records')
        .set(u.auth)
        .send({ table: 'notes', blob: bytes.toString('base64'), checksum: sha(bytes) })
        .expect(201);
      // Stripe refuses, so the run stops at billing with everything before it recorded...
      fake.failWith('DELETE', /^\/v1\/customers\//, 400, 'invalid_request_error', 'Simulated refusal');
      const erasureId = await deleteAccount(u);
      await makeDue(erasureId);
      const stopped = await erasureIn(erasureId, 'retrying');
      const done = stopped.progress as Record<string, number>;
      expect(Object.keys(done)).toEqual(expect.arrayContaining(['storage', 'plugin-sales']));
      expect(Object.keys(done)).not.toContain('billing');
      // ...and becomes what a process killed at that point leaves: running, its lease lapsed.
      await db.query(
        `UPDATE account_erasures SET status = 'running', lease_until = now() - interval '1 second',
                next_attempt_at = NULL WHERE id = $1`,
        [erasureId],
      );
      fake.clearFailures();

      const completed = await erasureIn(erasureId, 'completed');
      expect(completed.progress).toMatchObject(done);
      expect(Object.keys(completed.progress as Obj)).toEqual(
        expect.arrayContaining(['billing', 'audit', 'auth']),
      );
      expect(completed.attempts).toBe(2);
      expect(fake.deletedCustomers.filter((id) => id === customer)).toEqual([customer]);
      await expectNoTrace(u);
      const verify = await api().get('/api/v1/admin/audit/verify').set(admin.auth).expect(200);
      expect(verify.body).toMatchObject({ ok: true });
    });
  });

  describe('exports', () => {
    it('removes the archive after its 7 days: the status says expired and the link answers 404', async () => {
      const u = await newUser(t);
      const created = await api().post('/api/v1/account/export').set(u.auth).send({}).expect(202);
      const exportId = created.body.id as string;
      const ready = await eventually(async () => {
        const res = await api().get(`/api/v1/account/export/${exportId}`).set(u.auth).expect(200);
        return res.body.status === 'ready' ? (res.body as Obj) : undefined;
      }, 'the export');
      const url = ready.download_url as string;
      expect((await fetch(url)).status).toBe(200);
      expect(await blobKeysUnder(blobs, `${u.id}/exports/`)).toHaveLength(1);

      await db.query(`UPDATE account_exports SET expires_at = now() - interval '1 second' WHERE id = $1`, [
        exportId,
      ]);
      const expired = await eventually(async () => {
        const res = await api().get(`/api/v1/account/export/${exportId}`).set(u.auth).expect(200);
        return res.body.status === 'expired' ? (res.body as Obj) : undefined;
      }, 'the sweep');
      expect(expired.download_url).toBeNull();
      expect(await blobKeysUnder(blobs, `${u.id}/exports/`)).toEqual([]);
      const refused = await fetch(url);
      expect(refused.status).toBe(404);
      expect(((await refused.json()) as Obj).code).toBe('not_found');
    });
  });

  describe('under an attacker’s eye', () => {
    it('limits password guesses on DELETE /account per account; wrong passwords change nothing', async () => {
      const u = await newUser(t, { tier: 'pro' });
      for (let i = 0; i < 10; i++) {
        const wrong = await api()
          .delete('/api/v1/account')
          .set(u.auth)
          .send({ password: `guess number ${i}` });
        expect({ status: wrong.status, code: wrong.body.code }).toEqual({
          status: 401,
          code: 'invalid_credentials',
        });
      }
      const limited = await api().delete('/api/v1/account').set(u.auth).send({ password: u.password });
      expect({ status: limited.status, code: limited.body.code }).toEqual({
        status: 429,
        code: 'rate_limited',
      });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      await api().get('/api/v1/auth/me').set(u.auth).expect(200);
      await signIn(u);
      const [{ n }] = await db.query<Array<{ n: number }>>(
        'SELECT count(*)::int AS n FROM account_erasures WHERE user_id = $1',
        [u.id],
      );
      expect(n).toBe(0);
    });

    it('answers restore the same for an unknown email and a wrong password; 409 for an account not deleted', async () => {
      const u = await newUser(t);
      const unknown = await api()
        .post('/api/v1/account/restore')
        .send({ email: `nobody-${randomBytes(4).toString('hex')}@example.com`, password: u.password });
      const wrong = await api()
        .post('/api/v1/account/restore')
        .send({ email: u.email, password: 'not it at all' });
      const shape = (res: request.Response) => ({
        status: res.status,
        code: res.body.code,
        message: res.body.message,
      });
      expect(shape(unknown)).toEqual(shape(wrong));
      expect(shape(wrong)).toMatchObject({ status: 401, code: 'invalid_credentials' });
      const live = await api().post('/api/v1/account/restore').send({ email: u.email, password: u.password });
      expect({ status: live.status, code: live.body.code }).toEqual({
        status: 409,
        code: 'erasure_not_pending',
      });
      await api().get('/api/v1/auth/me').set(u.auth).expect(200);
    });

    it('answers simultaneous deletions with the one erasure, never a 5xx', async () => {
      const u = await newUser(t);
      const answers = await Promise.all(
        Array.from({ length: 4 }, () =>
          api().delete('/api/v1/account').set(u.auth).send({ password: u.password }),
        ),
      );
      for (const res of answers) expect([202, 401]).toContain(res.status);
      const ids = new Set(
        answers.filter((res) => res.status === 202).map((res) => res.body.erasure_id as string),
      );
      expect(ids.size).toBe(1);
      await erasureIn([...ids][0], 'scheduled');
    });

    it('binds a download link to its export: another export’s id under the same signature is refused', async () => {
      const a = await newUser(t);
      const b = await newUser(t);
      const readyOf = async (u: TestUser) => {
        const created = await api().post('/api/v1/account/export').set(u.auth).send({}).expect(202);
        return eventually(async () => {
          const res = await api().get(`/api/v1/account/export/${created.body.id}`).set(u.auth).expect(200);
          return res.body.status === 'ready' ? (res.body as Obj) : undefined;
        }, 'the export');
      };
      const [mine, theirs] = [await readyOf(a), await readyOf(b)];
      const forged = new URL(mine.download_url as string);
      forged.pathname = forged.pathname.replace(mine.id as string, theirs.id as string);
      const refused = await fetch(forged);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as Obj).code).toBe('link_invalid');
      await api()
        .get(`/api/v1/account/export/${theirs.id as string}`)
        .set(a.auth)
        .expect(404);
    });

    it('answers bad input on the account routes with a 4xx', async () => {
      const u = await newUser(t);
      const cases: Array<[request.Test, number]> = [
        [api().get('/api/v1/account/export/not-a-uuid').set(u.auth), 400],
        [api().get(`/api/v1/account/export/${randomBytes(16).toString('hex')}/download`), 400],
        [
          api().get(
            '/api/v1/account/export/00000000-0000-4000-8000-000000000000/download?expires=abc&signature=x',
          ),
          400,
        ],
        [
          api().get(
            '/api/v1/account/export/00000000-0000-4000-8000-000000000000/download?expires=1e400&signature=x',
          ),
          400,
        ],
        [api().post('/api/v1/account/export').set(u.auth).send({ include_backups: 'yes' }), 400],
        [api().delete('/api/v1/account').set(u.auth).send({ password: 12345 }), 400],
        [api().delete('/api/v1/account').set(u.auth).send({}), 400],
        [api().post('/api/v1/account/restore').send({ email: 'not an email', password: 'x' }), 400],
        [api().post('/api/v1/admin/erasures/00000000-0000-4000-8000-000000000000/run').set(admin.auth), 404],
        [api().get('/api/v1/admin/erasures?status=gone').set(admin.auth), 400],
      ];
      for (const [req, status] of cases) {
        const res = await req;
        expect({ url: res.request.url, status: res.status }).toEqual({ url: res.request.url, status });
        expect(typeof res.body.code).toBe('string');
      }
      await api().get('/api/v1/auth/me').set(u.auth).expect(200);
    });

    it('erases an admin account: its trace goes, the audit chain and the accounts it acted on stay', async () => {
      const other = await newUser(t, { role: 'admin' });
      const target = await newUser(t);
      await api().patch(`/api/v1/admin/users/${target.id}`).set(other.auth).send({ tier: 'pro' }).expect(200);
      const entries = async () =>
        (await api().get('/api/v1/admin/audit?limit=1').set(admin.auth).expect(200)).body.total as number;
      const before = await entries();
      await eraseNow(other);
      await expectNoTrace(other);
      expect(await entries()).toBeGreaterThan(before);
      const verify = await api().get('/api/v1/admin/audit/verify').set(admin.auth).expect(200);
      expect(verify.body).toMatchObject({ ok: true, first_broken_id: null });
      const me = await api().get('/api/v1/auth/me').set(target.auth).expect(200);
      expect(me.body).toMatchObject({ id: target.id, tier: 'pro' });
    });

    it('cancels the erasure of an account an admin enabled again in its grace period', async () => {
      const u = await newUser(t, { tier: 'pro' });
      const bytes = randomBytes(100);
      const record = await api()
        .post('/api/v1/storage/records')
        .set(u.auth)
        .send({ table: 'notes', blob: bytes.toString('base64'), checksum: sha(bytes) })
        .expect(201);
      const erasureId = await deleteAccount(u);
      await api().patch(`/api/v1/admin/users/${u.id}`).set(admin.auth).send({ disabled: false }).expect(200);
      await makeDue(erasureId);
      await erasureIn(erasureId, 'canceled');
      const back = await signIn(u);
      await api().get(`/api/v1/storage/records/${record.body.id}`).set(back.auth).expect(200);
    });
  });
});
