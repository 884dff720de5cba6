import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import Stripe from 'stripe';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { FEATURES } from '../src/common/tiers/tiers.js';
import { FakeStripe } from './support/fake-stripe.js';
import { withServer } from './support/conditions.js';
import { createTestDatabase } from './support/test-database.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';

const WEBHOOK_SECRET = 'whsec_test_adiuva';
const stripe = new Stripe('sk_test_unused');
const now = () => Math.floor(Date.now() / 1000);
const rid = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

type Obj = Record<string, unknown>;

function event(type: string, object: Obj, created = now(), id = rid('evt')): Obj {
  return {
    id,
    object: 'event',
    api_version: '2026-10-28.endive',
    created,
    type,
    data: { object },
    livemode: false,
  };
}

function subscriptionObject(o: {
  id: string;
  customer?: string;
  price: string;
  status?: string;
  quantity?: number;
  periodEnd?: number;
  userId?: string;
  cancelAtPeriodEnd?: boolean;
}): Obj {
  return {
    id: o.id,
    object: 'subscription',
    customer: o.customer ?? rid('cus'),
    status: o.status ?? 'active',
    cancel_at_period_end: o.cancelAtPeriodEnd ?? false,
    metadata: o.userId ? { user_id: o.userId } : {},
    items: {
      object: 'list',
      data: [
        {
          id: rid('si'),
          object: 'subscription_item',
          price: { id: o.price, object: 'price' },
          quantity: o.quantity ?? 1,
          current_period_end: o.periodEnd ?? now() + 30 * 86400,
        },
      ],
    },
  };
}

describe('billing', () => {
  const fake = new FakeStripe();
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    await fake.start();
    t = await startTestApp({
      env: {
        STRIPE_SECRET_KEY: FakeStripe.SECRET_KEY,
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STRIPE_API_URL: fake.url,
        ADMIN_EMAILS: 'billing-admin@example.com',
      },
    });
    db = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });
  afterEach(() => fake.clearFailures());

  const api = () => request(t.url);
  const tierOf = async (u: TestUser) =>
    (await api().get('/api/v1/auth/me').set(u.auth).expect(200)).body.tier as string;
  const webhook = (
    payload: Obj,
    opts: { secret?: string; timestamp?: number; signature?: string | null } = {},
  ) => {
    const body = JSON.stringify(payload);
    const req = api().post('/api/v1/billing/webhook').set('Content-Type', 'application/json');
    const signature =
      opts.signature === undefined
        ? stripe.webhooks.generateTestHeaderString({
            payload: body,
            secret: opts.secret ?? WEBHOOK_SECRET,
            timestamp: opts.timestamp,
          })
        : opts.signature;
    if (signature !== null) req.set('Stripe-Signature', signature);
    return req.send(body);
  };
  const eventCount = async () =>
    Number((await db.query('SELECT count(*)::int AS n FROM stripe_events'))[0].n);

  /** A user who went through checkout: linked customer and subscription. */
  async function subscriber(tier: 'pro' | 'power' | 'team' = 'pro') {
    const u = await newUser(t);
    await api().post('/api/v1/billing/checkout').set(u.auth).send({ tier }).expect(200);
    const [{ stripe_customer_id: customer }] = await db.query(
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
        metadata: { user_id: u.id, tier },
      }),
    ).expect(200);
    return { u, customer: customer as string, subscription };
  }

  it('GET /billing/tiers is public: features, prices in EUR cents and rate limits of each tier', async () => {
    const res = await api().get('/api/v1/billing/tiers').expect(200);
    expect(
      res.body.tiers.map((x: Obj) => [x.tier, x.price_eur_cents, x.per_seat, x.rate_limit_per_minute]),
    ).toEqual([
      ['free', 0, false, 20],
      ['pro', 1500, false, 60],
      ['power', 2900, false, 120],
      ['team', 4900, true, 200],
    ]);
    expect(res.body.tiers[2].features).toEqual(FEATURES.power);
  });

  describe('checkout', () => {
    it('creates the customer once and a subscription-mode session carrying the user and tier', async () => {
      const u = await newUser(t);
      const res = await api().post('/api/v1/billing/checkout').set(u.auth).send({ tier: 'pro' }).expect(200);
      expect(res.body.checkout_url).toMatch(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);

      const [{ stripe_customer_id: customer }] = await db.query(
        'SELECT stripe_customer_id FROM users WHERE id = $1',
        [u.id],
      );
      expect(customer).toMatch(/^cus_/);
      const created = fake
        .requestsTo('POST', '/v1/customers')
        .filter((r) => r.form['metadata[user_id]'] === u.id);
      expect(created).toHaveLength(1);
      expect(created[0].form.email).toBe(u.email);

      const session = fake.requestsTo('POST', '/v1/checkout/sessions').at(-1)!;
      expect(session.form).toMatchObject({
        mode: 'subscription',
        customer,
        client_reference_id: u.id,
        'metadata[user_id]': u.id,
        'metadata[tier]': 'pro',
        'line_items[0][price]': 'price_pro_monthly',
        'line_items[0][quantity]': '1',
        'subscription_data[metadata][user_id]': u.id,
        success_url: 'http://localhost:5173/billing/success?session_id={CHECKOUT_SESSION_ID}',
        cancel_url: 'http://localhost:5173/billing/cancelled',
      });

      await api().post('/api/v1/billing/checkout').set(u.auth).send({ tier: 'power' }).expect(200);
      expect(
        fake.requestsTo('POST', '/v1/customers').filter((r) => r.form['metadata[user_id]'] === u.id),
      ).toHaveLength(1);
      expect(fake.requestsTo('POST', '/v1/checkout/sessions').at(-1)!.form).toMatchObject({
        customer,
        'line_items[0][price]': 'price_power_monthly',
      });
    });

    it('sends the user back to return URLs named in the request when their origin is allowed', async () => {
      const u = await newUser(t);
      await api()
        .post('/api/v1/billing/checkout')
        .set(u.auth)
        .send({
          tier: 'pro',
          success_url: 'http://localhost:3000/paid?session={CHECKOUT_SESSION_ID}',
          cancel_url: 'http://localhost:3000/plans',
        })
        .expect(200);
      expect(fake.requestsTo('POST', '/v1/checkout/sessions').at(-1)!.form).toMatchObject({
        success_url: 'http://localhost:3000/paid?session={CHECKOUT_SESSION_ID}',
        cancel_url: 'http://localhost:3000/plans',
      });
    });

    it('bills team per seat', async () => {
      const u = await newUser(t);
      await api().post('/api/v1/billing/checkout').set(u.auth).send({ tier: 'team', seats: 5 }).expect(200);
      expect(fake.requestsTo('POST', '/v1/checkout/sessions').at(-1)!.form).toMatchObject({
        'line_items[0][price]': 'price_team_monthly',
        'line_items[0][quantity]': '5',
      });
    });

    it.each([
      [{ tier: 'free' }, 'tier must be one of pro, power, team'],
      [{ tier: 'gold' }, 'tier must be one of pro, power, team'],
      [{}, 'tier must be one of pro, power, team'],
      [{ tier: 'pro', seats: 3 }, 'seats applies to the team tier only'],
      [{ tier: 'team', seats: 0 }, 'seats must not be less than 1'],
      [
        { tier: 'pro', success_url: 'https://evil.example/phish' },
        'success_url must be on one of the allowed origins',
      ],
      [{ tier: 'pro', cancel_url: 'javascript:alert(1)' }, 'cancel_url must be an http(s) URL'],
    ])('rejects %o with 400 and calls Stripe for nothing', async (body, message) => {
      const u = await newUser(t);
      const before = fake.requests.length;
      const res = await api().post('/api/v1/billing/checkout').set(u.auth).send(body).expect(400);
      expect([res.body.message].flat().join(' ')).toContain(message);
      expect(fake.requests.length).toBe(before);
    });

    it('answers 502 with a clear message when Stripe refuses, and stores no subscription', async () => {
      const u = await newUser(t);
      fake.failWith(
        'POST',
        /^\/v1\/checkout\/sessions$/,
        400,
        'invalid_request_error',
        "No such price: 'price_pro_monthly'",
      );
      const res = await api().post('/api/v1/billing/checkout').set(u.auth).send({ tier: 'pro' }).expect(502);
      expect(res.body.message).toBe(
        "Payment provider error: Stripe: No such price: 'price_pro_monthly'. Nothing was charged; try again later.",
      );
      expect(await db.query('SELECT 1 FROM subscriptions WHERE user_id = $1', [u.id])).toHaveLength(0);
      expect(await tierOf(u)).toBe('free');
    });

    it('answers 502 when Stripe keeps failing (after the library’s retries)', async () => {
      const u = await newUser(t);
      fake.failWith('POST', /^\/v1\/customers$/, 500, 'api_error', 'Something went wrong on Stripe’s end');
      const res = await api().post('/api/v1/billing/checkout').set(u.auth).send({ tier: 'pro' }).expect(502);
      expect(res.body.message).toMatch(/^Payment provider error/);
      expect(
        (await db.query('SELECT stripe_customer_id FROM users WHERE id = $1', [u.id]))[0].stripe_customer_id,
      ).toBeNull();
    });
  });

  describe('webhook verification', () => {
    it('refuses a bad, missing or stale signature with 400 and stores nothing', async () => {
      const payload = event(
        'customer.subscription.updated',
        subscriptionObject({ id: rid('sub'), price: 'price_pro_monthly' }),
      );
      const before = await eventCount();
      const bad = await webhook(payload, { secret: 'whsec_wrong' }).expect(400);
      expect(bad.body.message).toMatch(/^Invalid Stripe signature/);
      const missing = await webhook(payload, { signature: null }).expect(400);
      expect(missing.body.message).toBe('Missing Stripe-Signature header');
      await webhook(payload, { timestamp: now() - 301 }).expect(400);
      await webhook(payload, { signature: 't=1,v1=deadbeef' }).expect(400);
      expect(await eventCount()).toBe(before);
    });

    it('verifies the exact bytes: a re-serialised body fails', async () => {
      const payload = event('ping.unknown', { id: 'x' });
      const body = JSON.stringify(payload);
      const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET });
      await api()
        .post('/api/v1/billing/webhook')
        .set('Content-Type', 'application/json')
        .set('Stripe-Signature', header)
        .send(JSON.stringify(payload, null, 2))
        .expect(400);
    });

    it('acknowledges unknown event types and records them', async () => {
      const payload = event('charge.refund.updated', { id: rid('re') });
      const res = await webhook(payload).expect(200);
      expect(res.body).toEqual({ ok: true });
      const [row] = await db.query('SELECT processed_at, outcome FROM stripe_events WHERE id = $1', [
        payload.id,
      ]);
      expect(row.processed_at).not.toBeNull();
      expect(row.outcome).toBe('ignored: event type not handled');
    });
  });

  describe('subscription lifecycle', () => {
    it('checkout.session.completed links the user and sets the tier for the very next request', async () => {
      const { u, customer, subscription } = await subscriber('pro');
      expect(await tierOf(u)).toBe('pro');
      const [row] = await db.query('SELECT * FROM subscriptions WHERE user_id = $1', [u.id]);
      expect(row).toMatchObject({
        stripe_subscription_id: subscription,
        stripe_customer_id: customer,
        tier: 'pro',
        status: 'active',
      });
      const audit = await db.query(
        `SELECT data FROM audit_log WHERE event_type = 'tier.changed' AND subject_id = $1`,
        [u.id],
      );
      expect(audit.map((a: Obj) => a.data)).toEqual([expect.objectContaining({ from: 'free', to: 'pro' })]);
      // The feature gates and rate limit moved with it.
      const me = await api().get('/api/v1/auth/me').set(u.auth).expect(200);
      expect(me.headers['ratelimit-limit']).toBe('60');
    });

    it('customer.subscription.updated sets tier from the price, status, period end, seats and cancel flag', async () => {
      const { u, customer, subscription } = await subscriber('pro');
      const periodEnd = now() + 20 * 86400;
      await webhook(
        event(
          'customer.subscription.updated',
          subscriptionObject({
            id: subscription,
            customer,
            price: 'price_team_monthly',
            quantity: 7,
            periodEnd,
            cancelAtPeriodEnd: true,
          }),
          now() + 1,
        ),
      ).expect(200);
      expect(await tierOf(u)).toBe('team');
      const sub = await api().get('/api/v1/billing/subscription').set(u.auth).expect(200);
      expect(sub.body).toEqual({
        tier: 'team',
        status: 'active',
        current_period_end: periodEnd * 1000,
        cancel_at_period_end: true,
        seats: 7,
      });
    });

    it('finds the user by customer when the subscription update arrives before checkout completion', async () => {
      const u = await newUser(t);
      await api().post('/api/v1/billing/checkout').set(u.auth).send({ tier: 'power' }).expect(200);
      const [{ stripe_customer_id: customer }] = await db.query(
        'SELECT stripe_customer_id FROM users WHERE id = $1',
        [u.id],
      );
      const subscription = rid('sub');
      const t0 = now();
      await webhook(
        event(
          'customer.subscription.updated',
          subscriptionObject({ id: subscription, customer, price: 'price_power_monthly' }),
          t0 + 5,
        ),
      ).expect(200);
      expect(await tierOf(u)).toBe('power');
      // The older checkout event arrives late: it links, but does not overwrite newer state.
      await webhook(
        event(
          'checkout.session.completed',
          {
            id: rid('cs'),
            client_reference_id: u.id,
            customer,
            subscription,
            metadata: { user_id: u.id, tier: 'pro' },
          },
          t0,
        ),
      ).expect(200);
      expect(await tierOf(u)).toBe('power');
    });

    it('applies an event id once: a replay answers 200 and changes nothing', async () => {
      const { u, customer, subscription } = await subscriber('pro');
      const t0 = now();
      const toPower = event(
        'customer.subscription.updated',
        subscriptionObject({ id: subscription, customer, price: 'price_power_monthly' }),
        t0 + 1,
      );
      await webhook(toPower).expect(200);
      const toPro = event(
        'customer.subscription.updated',
        subscriptionObject({ id: subscription, customer, price: 'price_pro_monthly' }),
        t0 + 2,
      );
      await webhook(toPro).expect(200);
      expect(await tierOf(u)).toBe('pro');

      const replay = await webhook(toPower).expect(200);
      expect(replay.body).toEqual({ ok: true, duplicate: true });
      expect(await tierOf(u)).toBe('pro');
      expect(await db.query('SELECT 1 FROM stripe_events WHERE id = $1', [toPower.id])).toHaveLength(1);
    });

    it('never lets an older event overwrite newer state', async () => {
      const { u, customer, subscription } = await subscriber('pro');
      const t0 = now();
      const newer = event(
        'customer.subscription.updated',
        subscriptionObject({ id: subscription, customer, price: 'price_power_monthly' }),
        t0 + 100,
      );
      const older = event(
        'customer.subscription.updated',
        subscriptionObject({ id: subscription, customer, price: 'price_pro_monthly', status: 'past_due' }),
        t0 + 50,
      );
      await webhook(newer).expect(200);
      await webhook(older).expect(200);
      expect(await tierOf(u)).toBe('power');
      const [row] = await db.query('SELECT outcome FROM stripe_events WHERE id = $1', [older.id]);
      expect(row.outcome).toBe('stale: newer state already applied');
      const [sub] = await db.query('SELECT status FROM subscriptions WHERE user_id = $1', [u.id]);
      expect(sub.status).toBe('active');
    });

    it('invoice.payment_failed: past_due keeps paid features until the period ends, then the tier lapses', async () => {
      const { u, customer, subscription } = await subscriber('pro');
      const periodEnd = now() + 2;
      await webhook(
        event(
          'customer.subscription.updated',
          subscriptionObject({ id: subscription, customer, price: 'price_pro_monthly', periodEnd }),
          now() + 1,
        ),
      ).expect(200);
      await webhook(
        event(
          'invoice.payment_failed',
          { id: rid('in'), object: 'invoice', customer, parent: { subscription_details: { subscription } } },
          now() + 2,
        ),
      ).expect(200);
      const during = await api().get('/api/v1/billing/subscription').set(u.auth).expect(200);
      expect(during.body).toMatchObject({ tier: 'pro', status: 'past_due' });

      await new Promise((r) => setTimeout(r, (periodEnd - Date.now() / 1000) * 1000 + 1200));
      expect(await tierOf(u)).toBe('free');
      expect((await api().get('/api/v1/billing/subscription').set(u.auth).expect(200)).body).toMatchObject({
        tier: 'free',
        status: 'past_due',
      });
    });

    it('customer.subscription.deleted drops the user to free', async () => {
      const { u, customer, subscription } = await subscriber('power');
      expect(await tierOf(u)).toBe('power');
      await webhook(
        event(
          'customer.subscription.deleted',
          subscriptionObject({
            id: subscription,
            customer,
            price: 'price_power_monthly',
            status: 'canceled',
          }),
          now() + 1,
        ),
      ).expect(200);
      expect(await tierOf(u)).toBe('free');
      const changes = await db.query(
        `SELECT data FROM audit_log WHERE event_type = 'tier.changed' AND subject_id = $1 ORDER BY id`,
        [u.id],
      );
      expect(changes.map((c: Obj) => [(c.data as Obj).from, (c.data as Obj).to])).toEqual([
        ['free', 'power'],
        ['power', 'free'],
      ]);
    });
  });

  describe('cancel', () => {
    it('cancels at Stripe and reverts to free at once; a second cancel is 404', async () => {
      const { u, subscription } = await subscriber('pro');
      const res = await api().delete('/api/v1/billing/subscription').set(u.auth).expect(200);
      expect(res.body).toMatchObject({ ok: true, tier: 'free', status: 'canceled' });
      expect(fake.canceled).toContain(subscription);
      expect(await tierOf(u)).toBe('free');
      await api().delete('/api/v1/billing/subscription').set(u.auth).expect(404);
      const types = (await db.query('SELECT event_type FROM audit_log WHERE subject_id = $1', [u.id])).map(
        (r: Obj) => r.event_type,
      );
      expect(types).toEqual(expect.arrayContaining(['billing.subscription_canceled', 'tier.changed']));
    });

    it('changes nothing when Stripe fails to cancel', async () => {
      const { u } = await subscriber('pro');
      fake.failWith('DELETE', /^\/v1\/subscriptions\//, 400, 'invalid_request_error', 'No such subscription');
      await api().delete('/api/v1/billing/subscription').set(u.auth).expect(502);
      expect(await tierOf(u)).toBe('pro');
    });

    it('answers 404 without a subscription', async () => {
      const u = await newUser(t);
      await api().delete('/api/v1/billing/subscription').set(u.auth).expect(404);
      expect((await api().get('/api/v1/billing/subscription').set(u.auth).expect(200)).body).toEqual({
        tier: 'free',
        status: 'none',
        current_period_end: null,
        cancel_at_period_end: false,
        seats: null,
      });
    });
  });
});

describe('billing without Stripe configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers 503 saying how to configure billing or use DEFAULT_TIER; tiers still work', async () => {
    const u = await newUser(t);
    for (const res of [
      await request(t.url).post('/api/v1/billing/checkout').set(u.auth).send({ tier: 'pro' }),
      await request(t.url).get('/api/v1/billing/subscription').set(u.auth),
      await request(t.url).delete('/api/v1/billing/subscription').set(u.auth),
      await request(t.url).post('/api/v1/billing/webhook').set('Stripe-Signature', 't=1,v1=x').send({}),
    ]) {
      expect(res.status).toBe(503);
      expect(res.body.message).toMatch(/STRIPE_SECRET_KEY.*DEFAULT_TIER/);
    }
    await request(t.url).get('/api/v1/billing/tiers').expect(200);
  });
});

withServer('a webhook whose handling fails', () => {
  it('answers 5xx, stays unprocessed, and Stripe’s retry applies it', async () => {
    const fake = new FakeStripe();
    await fake.start();
    const db = await createTestDatabase();
    const t = await startTestApp({
      db,
      env: {
        STRIPE_SECRET_KEY: FakeStripe.SECRET_KEY,
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STRIPE_API_URL: fake.url,
      },
    });
    const locker = new Client({ connectionString: db.url });
    try {
      const u = await newUser(t);
      const payload = event('checkout.session.completed', {
        id: rid('cs'),
        client_reference_id: u.id,
        customer: rid('cus'),
        subscription: rid('sub'),
        metadata: { user_id: u.id, tier: 'pro' },
      });
      const body = JSON.stringify(payload);
      const send = () =>
        request(t.url)
          .post('/api/v1/billing/webhook')
          .set('Content-Type', 'application/json')
          .set(
            'Stripe-Signature',
            stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET }),
          )
          .send(body);

      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE subscriptions IN ACCESS EXCLUSIVE MODE');
      const failed = await send();
      await locker.query('ROLLBACK');
      expect(failed.status).toBe(500);
      const [stored] = await t.app
        .get(DataSource)
        .query('SELECT processed_at FROM stripe_events WHERE id = $1', [payload.id]);
      expect(stored.processed_at).toBeNull();
      expect((await request(t.url).get('/api/v1/auth/me').set(u.auth)).body.tier).toBe('free');

      await send().expect(200, { ok: true });
      expect((await request(t.url).get('/api/v1/auth/me').set(u.auth)).body.tier).toBe('pro');
    } finally {
      await locker.end().catch(() => undefined);
      await t.close();
      await db.drop();
      await fake.stop();
    }
  });
});
