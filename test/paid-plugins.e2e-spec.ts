import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { FakeStripe } from './support/fake-stripe.js';
import { sha256Hex, validPluginPackage } from './support/plugin-package.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';

/**
 * Paid plugins through the real API and the real `stripe` library against a
 * local server speaking Stripe's API: buying (off-session, or Checkout and its
 * webhook), the 70/30 ledger, developers' connected accounts, payouts,
 * earnings and refunds.
 */

const WEBHOOK_SECRET = 'whsec_test_paid_plugins';
const CONNECT_SECRET = 'whsec_test_paid_plugins_connect';
const stripe = new Stripe('sk_test_unused');
type Obj = Record<string, unknown>;
const now = () => Math.floor(Date.now() / 1000);
const rid = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;
const thisMonth = () => new Date().toISOString().slice(0, 7);
const monthAfter = (period: string, months = 1) => {
  const [year, month] = period.split('-').map(Number);
  return new Date(Date.UTC(year, month - 1 + months, 1)).toISOString().slice(0, 7);
};
let counter = 0;

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

/** An event of a connected account, as the Connect endpoint sends it (`account` names it). */
function connectEvent(type: string, object: Obj, created = now()): Obj {
  return { ...event(type, object, created), account: object.id };
}

describe('paid plugins', () => {
  const fake = new FakeStripe();
  let t: TestApp;
  let sql: DataSource;
  let admin: TestUser;

  const api = () => request(t.url);
  const install = (user: TestUser, id: string) =>
    api().post(`/api/v1/plugins/${id}/install`).set(user.auth).send({});
  const webhook = (payload: Obj, secret = WEBHOOK_SECRET) => {
    const body = JSON.stringify(payload);
    return api()
      .post('/api/v1/billing/webhook')
      .set('Content-Type', 'application/json')
      .set('Stripe-Signature', stripe.webhooks.generateTestHeaderString({ payload: body, secret }))
      .send(body);
  };
  const payouts = (period: string) =>
    api().post('/api/v1/admin/plugins/payouts').set(admin.auth).send({ period });
  const count = async (query: string, params: unknown[]) => Number((await sql.query(query, params))[0].n);
  const purchases = (user: TestUser) =>
    sql.query('SELECT plugin_id, status, payment_id, amount_cents FROM plugin_purchases WHERE user_id = $1', [
      user.id,
    ]);
  const ledger = (developer: TestUser) =>
    sql.query(
      `SELECT kind, amount_cents, developer_share_cents, platform_share_cents, currency, payment_id, transfer_id
         FROM plugin_revenue_events WHERE developer_id = $1 ORDER BY created_at, kind DESC`,
      [developer.id],
    );

  /** A developer's plugin at `price` cents, submitted and approved. */
  async function paidPlugin(developer: TestUser, price: number): Promise<string> {
    counter += 1;
    const id = `pq${counter}v-${Math.random().toString(36).slice(2, 10)}`;
    const manifest = {
      id,
      name: `Paid ${id}`,
      description: 'A paid plugin of the paid-plugin tests.',
      version: '1.0.0',
      author: 'Paid Tests',
      permissions: ['read:tasks'],
      category: 'Productivity',
      price_cents: price,
    };
    const pkg = validPluginPackage(manifest);
    const submitted = await api()
      .post('/api/v1/plugins')
      .set(developer.auth)
      .send({ manifest, package: pkg.toString('base64'), checksum: sha256Hex(pkg) });
    expect(submitted.status).toBe(201);
    const reviewed = await api()
      .post(`/api/v1/admin/plugins/${id}/review`)
      .set(admin.auth)
      .send({ decision: 'approved' });
    expect(reviewed.status).toBe(200);
    return id;
  }

  /** A Power account with a Stripe customer whose default payment method is `card` (as a subscriber has). */
  async function buyer(card: string | null = 'pm_card_visa'): Promise<TestUser & { customer: string }> {
    const u = await newUser(t, { tier: 'power' });
    await api().post('/api/v1/billing/checkout').set(u.auth).send({ tier: 'power' }).expect(200);
    const [{ stripe_customer_id: customer }] = await sql.query(
      'SELECT stripe_customer_id FROM users WHERE id = $1',
      [u.id],
    );
    fake.setDefaultPaymentMethod(customer as string, card);
    return { ...u, customer: customer as string };
  }

  /** A developer with a connected account, payouts enabled or not (through account.updated). */
  async function connectedDeveloper(payoutsEnabled = true): Promise<TestUser & { account: string }> {
    const dev = await newUser(t, { tier: 'power' });
    await api().post('/api/v1/plugins/developer/connect').set(dev.auth).expect(200);
    const [{ stripe_account_id: account }] = await sql.query(
      'SELECT stripe_account_id FROM plugin_developer_accounts WHERE user_id = $1',
      [dev.id],
    );
    if (payoutsEnabled)
      await webhook(
        connectEvent('account.updated', fake.setPayoutsEnabled(account as string, true)),
        CONNECT_SECRET,
      ).expect(200);
    return { ...dev, account: account as string };
  }

  /** The PaymentIntent of the user's purchase of `pluginId`. */
  const paymentOf = async (user: TestUser, pluginId: string) =>
    ((await purchases(user)) as Array<{ plugin_id: string; payment_id: string }>).find(
      (p) => p.plugin_id === pluginId,
    )!.payment_id;

  const refund = (paymentId: string, refunded: number, created = now()) =>
    webhook(event('charge.refunded', fake.refundedCharge(paymentId, refunded), created));

  beforeAll(async () => {
    await fake.start();
    t = await startTestApp({
      env: {
        STRIPE_SECRET_KEY: FakeStripe.SECRET_KEY,
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_SECRET,
        STRIPE_API_URL: fake.url,
        RATE_LIMIT_ENABLED: 'false',
      },
    });
    sql = t.app.get(DataSource);
    admin = await newUser(t, { tier: 'power', role: 'admin' });
  });
  afterAll(async () => {
    await t?.close();
    await fake.stop();
  });

  describe('buying', () => {
    it('charges the saved card off-session once, records the purchase and its sale, and installs at once', async () => {
      const dev = await newUser(t);
      const id = await paidPlugin(dev, 499);
      const u = await buyer();
      const first = await install(u, id);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ ok: true, version: '1.0.0' });
      expect((await fetch(first.body.download_url as string)).status).toBe(200);

      const charges = fake
        .requestsTo('POST', '/v1/payment_intents')
        .filter((r) => r.form.customer === u.customer);
      expect(charges).toHaveLength(1);
      expect(charges[0].form).toMatchObject({
        amount: '499',
        currency: 'eur',
        customer: u.customer,
        payment_method: 'pm_card_visa',
        confirm: 'true',
        off_session: 'true',
        'metadata[kind]': 'plugin_purchase',
        'metadata[user_id]': u.id,
        'metadata[plugin_id]': id,
      });
      expect(charges[0].idempotencyKey).toBe(`plugin-purchase:${u.id}:${id}:499`);
      const paymentId = await paymentOf(u, id);
      expect(paymentId).toMatch(/^pi_/);
      expect(await purchases(u)).toEqual([
        { plugin_id: id, status: 'paid', payment_id: paymentId, amount_cents: 499 },
      ]);
      expect(await ledger(dev)).toEqual([
        {
          kind: 'sale',
          amount_cents: 499,
          developer_share_cents: 349,
          platform_share_cents: 150,
          currency: 'EUR',
          payment_id: paymentId,
          transfer_id: null,
        },
      ]);
    });

    it('charges once for a double install and for a reinstall after uninstalling', async () => {
      const dev = await newUser(t);
      const id = await paidPlugin(dev, 999);
      const u = await buyer();
      expect((await install(u, id)).status).toBe(200);
      expect((await install(u, id)).status).toBe(200);
      await api().delete(`/api/v1/plugins/${id}/install`).set(u.auth).expect(200);
      expect((await install(u, id)).status).toBe(200);
      expect(
        fake.requestsTo('POST', '/v1/payment_intents').filter((r) => r.form.customer === u.customer),
      ).toHaveLength(1);
      expect(await purchases(u)).toHaveLength(1);
      expect(await ledger(dev)).toHaveLength(1);
    });

    it('charges once when installs arrive at once', async () => {
      const dev = await newUser(t);
      const id = await paidPlugin(dev, 999);
      const u = await buyer();
      const answers = await Promise.all(Array.from({ length: 6 }, () => install(u, id)));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
      const intents = [...fake.paymentIntents.values()].filter((pi) => pi.customer === u.customer);
      expect(intents).toHaveLength(1);
      expect(await purchases(u)).toHaveLength(1);
      expect(await ledger(dev)).toHaveLength(1);
    });

    it('answers 402 with a Checkout link when the card needs its owner; the webhook records the purchase, once', async () => {
      const dev = await newUser(t);
      const id = await paidPlugin(dev, 999);
      const u = await buyer('pm_card_authenticationRequired');
      const refused = await install(u, id);
      expect(refused.status).toBe(402);
      expect(refused.body.code).toBe('payment_required');
      expect(refused.body.checkout_url).toMatch(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
      expect(await purchases(u)).toEqual([]);
      const session = fake.requestsTo('POST', '/v1/checkout/sessions').at(-1)!;
      expect(session.form).toMatchObject({
        mode: 'payment',
        customer: u.customer,
        'line_items[0][price_data][unit_amount]': '999',
        'line_items[0][price_data][currency]': 'eur',
        'metadata[kind]': 'plugin_purchase',
        'payment_intent_data[metadata][plugin_id]': id,
      });
      // Asking again gives the same open session, so the user cannot pay twice.
      expect((await install(u, id)).body.checkout_url).toBe(refused.body.checkout_url);

      const sessionId = (refused.body.checkout_url as string).split('/').pop()!;
      const paid = event('checkout.session.completed', fake.completeCheckout(sessionId));
      expect((await webhook(paid)).body).toEqual({ ok: true });
      expect((await webhook(paid)).body).toEqual({ ok: true, duplicate: true });
      const chargesBefore = fake.requestsTo('POST', '/v1/payment_intents').length;
      expect((await install(u, id)).status).toBe(200);
      expect(fake.requestsTo('POST', '/v1/payment_intents')).toHaveLength(chargesBefore);
      const paymentId = await paymentOf(u, id);
      expect(await ledger(dev)).toEqual([
        expect.objectContaining({
          kind: 'sale',
          amount_cents: 999,
          developer_share_cents: 699,
          payment_id: paymentId,
        }),
      ]);
    });

    it('answers 402 with a Checkout link to an account without a saved card', async () => {
      const dev = await newUser(t);
      const id = await paidPlugin(dev, 499);
      const u = await newUser(t, { tier: 'power' });
      const refused = await install(u, id);
      expect(refused.status).toBe(402);
      expect(refused.body.checkout_url).toMatch(/^https:\/\/checkout\.stripe\.com\//);
      const [{ stripe_customer_id: customer }] = await sql.query(
        'SELECT stripe_customer_id FROM users WHERE id = $1',
        [u.id],
      );
      expect(customer).toMatch(/^cus_/);
      expect(
        fake.requestsTo('POST', '/v1/payment_intents').filter((r) => r.form.customer === customer),
      ).toEqual([]);
    });

    it('records nothing when the card is declined, and offers Checkout instead', async () => {
      const dev = await newUser(t);
      const id = await paidPlugin(dev, 999);
      const u = await buyer('pm_card_chargeDeclined');
      const refused = await install(u, id);
      expect(refused.status).toBe(402);
      expect(refused.body.checkout_url).toBeDefined();
      expect(await purchases(u)).toEqual([]);
      expect(await ledger(dev)).toEqual([]);
      expect((await api().get('/api/v1/plugins/installed').set(u.auth)).body.plugins).toEqual([]);
    });

    it('answers 502 and records nothing when Stripe fails', async () => {
      const dev = await newUser(t);
      const id = await paidPlugin(dev, 999);
      const u = await buyer();
      fake.failWith(
        'POST',
        /^\/v1\/payment_intents$/,
        400,
        'invalid_request_error',
        'No such payment_method',
      );
      try {
        const res = await install(u, id);
        expect(res.status).toBe(502);
        expect(res.body.code).toBe('provider_unavailable');
      } finally {
        fake.clearFailures();
      }
      expect(await purchases(u)).toEqual([]);
    });

    it.each([
      [1, 0, 1],
      [99, 69, 30],
      [499, 349, 150],
      [999, 699, 300],
      [100_000, 70_000, 30_000],
    ])('splits a sale of %i cents exactly: developer %i, platform %i', async (price, developer, platform) => {
      const dev = await newUser(t);
      const id = await paidPlugin(dev, price);
      expect((await install(await buyer(), id)).status).toBe(200);
      expect(await ledger(dev)).toEqual([
        expect.objectContaining({
          amount_cents: price,
          developer_share_cents: developer,
          platform_share_cents: platform,
        }),
      ]);
    });
  });

  describe('developers and payouts', () => {
    it('creates the connected account once, with a fresh onboarding link each time; account.updated enables payouts', async () => {
      const dev = await newUser(t);
      const before = await api().get('/api/v1/plugins/developer').set(dev.auth).expect(200);
      expect(before.body).toEqual({
        connected: false,
        stripe_account_id: null,
        payouts_enabled: false,
        details_submitted: false,
      });
      const first = await api().post('/api/v1/plugins/developer/connect').set(dev.auth).expect(200);
      const second = await api().post('/api/v1/plugins/developer/connect').set(dev.auth).expect(200);
      expect(first.body.onboarding_url).toMatch(/^https:\/\/connect\.stripe\.com\/setup\/e\/acct_/);
      expect(second.body.onboarding_url).not.toBe(first.body.onboarding_url);
      const created = fake
        .requestsTo('POST', '/v1/accounts')
        .filter((r) => r.form['metadata[user_id]'] === dev.id);
      expect(created).toHaveLength(1);
      expect(created[0].form).toMatchObject({ type: 'express', email: dev.email });
      const state = await api().get('/api/v1/plugins/developer').set(dev.auth).expect(200);
      expect(state.body).toMatchObject({ connected: true, payouts_enabled: false });
      const link = fake.requestsTo('POST', '/v1/account_links').at(-1)!;
      expect(link.form).toMatchObject({
        account: state.body.stripe_account_id,
        type: 'account_onboarding',
        return_url: 'http://localhost:5173/plugins/developer/ready',
        refresh_url: 'http://localhost:5173/plugins/developer/retry',
      });

      const enabled = connectEvent(
        'account.updated',
        fake.setPayoutsEnabled(state.body.stripe_account_id, true),
      );
      expect((await webhook(enabled, CONNECT_SECRET)).status).toBe(200);
      // An older account.updated arriving late changes nothing.
      const stale = connectEvent(
        'account.updated',
        { ...(enabled.data as { object: Obj }).object, payouts_enabled: false },
        now() - 60,
      );
      expect((await webhook(stale, CONNECT_SECRET)).status).toBe(200);
      const after = await api().get('/api/v1/plugins/developer').set(dev.auth).expect(200);
      expect(after.body).toMatchObject({ payouts_enabled: true, details_submitted: true });
    });

    it('pays each connected developer once per period, skipping unconnected ones (who keep accruing)', async () => {
      const paidDev = await connectedDeveloper();
      const unconnected = await newUser(t);
      const pending = await connectedDeveloper(false);
      for (const dev of [paidDev, unconnected, pending]) {
        for (const price of [499, 999])
          expect((await install(await buyer(), await paidPlugin(dev, price))).status).toBe(200);
      }
      const period = thisMonth();
      const run = await payouts(period).expect(200);
      const mine = (list: Array<{ developer_id: string }>) =>
        list.filter((x) => [paidDev.id, unconnected.id, pending.id].includes(x.developer_id));
      expect(mine(run.body.paid)).toEqual([
        expect.objectContaining({
          developer_id: paidDev.id,
          amount_cents: 349 + 699,
          currency: 'EUR',
          events: 2,
        }),
      ]);
      const transferId = run.body.paid.find(
        (p: { developer_id: string }) => p.developer_id === paidDev.id,
      ).transfer_id;
      expect(transferId).toMatch(/^tr_/);
      expect(fake.transfers.get(transferId)).toMatchObject({
        amount: 1048,
        currency: 'eur',
        destination: paidDev.account,
      });
      expect(
        fake.requestsTo('POST', '/v1/transfers').find((r) => r.form.destination === paidDev.account)!
          .idempotencyKey,
      ).toMatch(new RegExp(`^plugin-payout:${paidDev.id}:[0-9a-f]{32}$`));
      expect(mine(run.body.skipped)).toEqual(
        expect.arrayContaining([
          { developer_id: unconnected.id, reason: 'no_connected_account' },
          { developer_id: pending.id, reason: 'payouts_not_enabled' },
        ]),
      );
      expect((await ledger(paidDev)).map((e: { transfer_id: string }) => e.transfer_id)).toEqual([
        transferId,
        transferId,
      ]);
      expect((await ledger(unconnected)).map((e: { transfer_id: string }) => e.transfer_id)).toEqual([
        null,
        null,
      ]);

      const again = await payouts(period).expect(200);
      expect(mine(again.body.paid)).toEqual([]);
      expect(mine(again.body.skipped)).toEqual(
        expect.arrayContaining([{ developer_id: unconnected.id, reason: 'no_connected_account' }]),
      );
      expect([...fake.transfers.values()].filter((tr) => tr.destination === paidDev.account)).toHaveLength(1);

      // Once the developer connects and Stripe enables payouts, the accrued shares are paid.
      await api().post('/api/v1/plugins/developer/connect').set(unconnected.auth).expect(200);
      const [{ stripe_account_id: account }] = await sql.query(
        'SELECT stripe_account_id FROM plugin_developer_accounts WHERE user_id = $1',
        [unconnected.id],
      );
      await webhook(
        connectEvent('account.updated', fake.setPayoutsEnabled(account, true)),
        CONNECT_SECRET,
      ).expect(200);
      const later = await payouts(monthAfter(period)).expect(200);
      expect(mine(later.body.paid)).toEqual([
        expect.objectContaining({ developer_id: unconnected.id, amount_cents: 1048 }),
      ]);
    });

    it('refuses payouts to non-admins and a malformed period', async () => {
      const u = await newUser(t, { tier: 'power' });
      expect(
        (await api().post('/api/v1/admin/plugins/payouts').set(u.auth).send({ period: thisMonth() })).status,
      ).toBe(403);
      expect((await payouts('2026-13')).status).toBe(400);
      expect((await payouts('May 2026')).status).toBe(400);
    });

    it('reports earnings for the caller’s plugins only', async () => {
      const dev = await connectedDeveloper();
      for (const price of [499, 999])
        expect((await install(await buyer(), await paidPlugin(dev, price))).status).toBe(200);
      const period = thisMonth();
      const earnings = () =>
        api().get('/api/v1/plugins/earnings').query({ period }).set(dev.auth).expect(200);
      expect((await earnings()).body).toEqual({
        period,
        gross_cents: 1498,
        developer_share_cents: 1048,
        paid_out_cents: 0,
        pending_cents: 1048,
        sales: 2,
      });
      await payouts(period).expect(200);
      expect((await earnings()).body).toMatchObject({ paid_out_cents: 1048, pending_cents: 0 });
      const other = await newUser(t);
      expect(
        (await api().get('/api/v1/plugins/earnings').query({ period }).set(other.auth).expect(200)).body,
      ).toEqual({
        period,
        gross_cents: 0,
        developer_share_cents: 0,
        paid_out_cents: 0,
        pending_cents: 0,
        sales: 0,
      });
      expect((await api().get('/api/v1/plugins/earnings').set(other.auth).expect(200)).body.period).toBe(
        period,
      );
      expect(
        (await api().get('/api/v1/plugins/earnings').query({ period: '26-05' }).set(dev.auth)).status,
      ).toBe(400);
    });
  });

  describe('refunds', () => {
    it('before payout: a negative ledger row, the install marked refunded and its download stopped', async () => {
      const dev = await connectedDeveloper();
      const id = await paidPlugin(dev, 999);
      const u = await buyer();
      const installed = await install(u, id);
      const paymentId = await paymentOf(u, id);
      expect((await refund(paymentId, 999)).body).toEqual({ ok: true });
      expect(
        (await ledger(dev)).map((e: Obj) => [
          e.kind,
          e.amount_cents,
          e.developer_share_cents,
          e.platform_share_cents,
        ]),
      ).toEqual([
        ['sale', 999, 699, 300],
        ['refund', -999, -699, -300],
      ]);
      expect(await purchases(u)).toEqual([expect.objectContaining({ status: 'refunded' })]);
      const list = await api().get('/api/v1/plugins/installed').set(u.auth).expect(200);
      expect(list.body.plugins.find((p: { id: string }) => p.id === id)).toMatchObject({ refunded: true });
      expect((await fetch(installed.body.download_url as string)).status).toBe(404);

      // Nothing is owed: the payout settles both rows without moving money.
      const run = await payouts(thisMonth()).expect(200);
      expect(run.body.paid.find((p: { developer_id: string }) => p.developer_id === dev.id)).toMatchObject({
        amount_cents: 0,
        transfer_id: null,
        reversal_ids: [],
      });
      expect(
        fake.requestsTo('POST', '/v1/transfers').filter((r) => r.form.destination === dev.account),
      ).toEqual([]);
    });

    it('after payout with nothing to net against: a transfer reversal of the developer share', async () => {
      const dev = await connectedDeveloper();
      const id = await paidPlugin(dev, 999);
      const u = await buyer();
      await install(u, id);
      const period = thisMonth();
      const first = await payouts(period).expect(200);
      const transferId = first.body.paid.find(
        (p: { developer_id: string }) => p.developer_id === dev.id,
      ).transfer_id;
      await refund(await paymentOf(u, id), 999).expect(200);
      const next = await payouts(monthAfter(period)).expect(200);
      const settled = next.body.paid.find((p: { developer_id: string }) => p.developer_id === dev.id);
      expect(settled).toMatchObject({ amount_cents: -699, transfer_id: null });
      expect(settled.reversal_ids).toHaveLength(1);
      expect(fake.transfers.get(transferId)).toMatchObject({
        amount: 699,
        amount_reversed: 699,
        reversed: true,
      });
      expect(fake.requestsTo('POST', `/v1/transfers/${transferId}/reversals`)[0].form).toMatchObject({
        amount: '699',
      });
    });

    it('after payout with new sales: the next payout nets the refund', async () => {
      const dev = await connectedDeveloper();
      const cheap = await paidPlugin(dev, 499);
      const dear = await paidPlugin(dev, 999);
      const u = await buyer();
      await install(u, cheap);
      const period = thisMonth();
      await payouts(period).expect(200);
      await refund(await paymentOf(u, cheap), 499).expect(200);
      await install(await buyer(), dear);
      const next = await payouts(monthAfter(period)).expect(200);
      const settled = next.body.paid.find((p: { developer_id: string }) => p.developer_id === dev.id);
      expect(settled).toMatchObject({ amount_cents: 699 - 349, reversal_ids: [] });
      expect(fake.transfers.get(settled.transfer_id)).toMatchObject({ amount: 350 });
    });

    it('changes nothing twice for replayed, repeated and out-of-order refund events', async () => {
      const dev = await newUser(t);
      const id = await paidPlugin(dev, 999);
      const u = await buyer();
      await install(u, id);
      const paymentId = await paymentOf(u, id);
      const partial = event('charge.refunded', fake.refundedCharge(paymentId, 300), now() - 30);
      const full = event('charge.refunded', fake.refundedCharge(paymentId, 999));
      expect((await webhook(full)).body).toEqual({ ok: true });
      expect((await webhook(full)).body).toEqual({ ok: true, duplicate: true });
      // The same refund state in another event, and the earlier partial refund arriving late.
      await refund(paymentId, 999).expect(200);
      expect((await webhook(partial)).body).toEqual({ ok: true });
      expect((await ledger(dev)).map((e: Obj) => [e.kind, e.amount_cents, e.developer_share_cents])).toEqual([
        ['sale', 999, 699],
        ['refund', -999, -699],
      ]);
    });

    it('applies a refund that arrives before its purchase once Stripe delivers it again', async () => {
      const dev = await newUser(t);
      const id = await paidPlugin(dev, 499);
      const u = await buyer(null);
      const refused = await install(u, id);
      const completed = fake.completeCheckout((refused.body.checkout_url as string).split('/').pop()!);
      const refundEvent = event(
        'charge.refunded',
        fake.refundedCharge(completed.payment_intent as string, 499),
      );
      expect((await webhook(refundEvent)).status).toBe(503);
      await webhook(event('checkout.session.completed', completed)).expect(200);
      expect((await webhook(refundEvent)).body).toEqual({ ok: true });
      expect((await ledger(dev)).map((e: Obj) => e.amount_cents)).toEqual([499, -499]);
      expect(await purchases(u)).toEqual([expect.objectContaining({ status: 'refunded' })]);
      // A refund of a payment that is not a plugin sale is acknowledged and ignored.
      const other = await count('SELECT count(*)::int AS n FROM plugin_revenue_events', []);
      const subscriptionPayment = rid('pi');
      fake.paymentIntents.set(subscriptionPayment, {
        id: subscriptionPayment,
        object: 'payment_intent',
        metadata: {},
      });
      const charge = {
        id: rid('ch'),
        object: 'charge',
        payment_intent: subscriptionPayment,
        amount_refunded: 100,
      };
      await webhook(event('charge.refunded', charge)).expect(200);
      expect(await count('SELECT count(*)::int AS n FROM plugin_revenue_events', [])).toBe(other);
    });

    it('buys again after a refund, with a new payment', async () => {
      const dev = await newUser(t);
      const id = await paidPlugin(dev, 499);
      const u = await buyer();
      await install(u, id);
      const firstPayment = await paymentOf(u, id);
      await refund(firstPayment, 499).expect(200);
      expect((await install(u, id)).status).toBe(200);
      const secondPayment = await paymentOf(u, id);
      expect(secondPayment).not.toBe(firstPayment);
      expect(await purchases(u)).toEqual([
        expect.objectContaining({ status: 'paid', payment_id: secondPayment }),
      ]);
      expect((await ledger(dev)).map((e: Obj) => e.amount_cents)).toEqual([499, -499, 499]);
    });
  });

  describe('delayed and duplicate payments', () => {
    const intentsOf = (customer: string) =>
      [...fake.paymentIntents.values()].filter((pi) => pi.customer === customer);

    it('a processing bank debit makes a pending purchase that payment_intent.succeeded completes, with one charge', async () => {
      const dev = await newUser(t);
      const id = await paidPlugin(dev, 999);
      const u = await buyer('pm_sepa_debit');
      const first = await install(u, id);
      expect(first.status).toBe(409);
      expect(first.body.code).toBe('payment_pending');
      expect(first.body.checkout_url).toBeUndefined();
      expect(await purchases(u)).toEqual([expect.objectContaining({ plugin_id: id, status: 'pending' })]);
      expect(await ledger(dev)).toEqual([]);

      // Installing again while the debit is processing neither charges nor offers Checkout.
      const sessionsBefore = fake.requestsTo('POST', '/v1/checkout/sessions').length;
      expect((await install(u, id)).body.code).toBe('payment_pending');
      expect(intentsOf(u.customer)).toHaveLength(1);
      expect(fake.requestsTo('POST', '/v1/checkout/sessions')).toHaveLength(sessionsBefore);
      expect((await api().get('/api/v1/plugins/installed').set(u.auth).expect(200)).body.plugins).toEqual([]);

      const [intent] = intentsOf(u.customer);
      const cleared = event(
        'payment_intent.succeeded',
        fake.settlePaymentIntent(intent.id as string, 'succeeded'),
      );
      expect((await webhook(cleared)).body).toEqual({ ok: true });
      expect((await webhook(cleared)).body).toEqual({ ok: true, duplicate: true });
      expect(await purchases(u)).toEqual([
        { plugin_id: id, status: 'paid', payment_id: intent.id, amount_cents: 999 },
      ]);
      expect(await ledger(dev)).toEqual([
        expect.objectContaining({
          kind: 'sale',
          amount_cents: 999,
          developer_share_cents: 699,
          payment_id: intent.id,
        }),
      ]);
      const installed = await install(u, id);
      expect(installed.status).toBe(200);
      expect((await fetch(installed.body.download_url as string)).status).toBe(200);
      expect(intentsOf(u.customer)).toHaveLength(1);
      expect(
        fake.refunds.size === 0 || [...fake.refunds.values()].every((r) => r.payment_intent !== intent.id),
      ).toBe(true);
    });

    it('payment_intent.payment_failed cancels the pending purchase; the next install charges anew', async () => {
      const dev = await newUser(t);
      const id = await paidPlugin(dev, 499);
      const u = await buyer('pm_sepa_debit');
      expect((await install(u, id)).status).toBe(409);
      const [intent] = intentsOf(u.customer);
      await webhook(
        event('payment_intent.payment_failed', fake.settlePaymentIntent(intent.id as string, 'failed')),
      ).expect(200);
      expect(await purchases(u)).toEqual([
        expect.objectContaining({ status: 'canceled', payment_id: intent.id }),
      ]);
      expect(await ledger(dev)).toEqual([]);
      fake.setDefaultPaymentMethod(u.customer, 'pm_card_visa');
      expect((await install(u, id)).status).toBe(200);
      const intents = intentsOf(u.customer);
      expect(intents).toHaveLength(2);
      expect(await purchases(u)).toEqual([
        expect.objectContaining({ status: 'paid', payment_id: intents[1].id, amount_cents: 499 }),
      ]);
      expect((await ledger(dev)).map((e: Obj) => [e.kind, e.amount_cents])).toEqual([['sale', 499]]);
    });

    it('refunds a Checkout paid after a saved-card purchase once, however often and however its events arrive', async () => {
      const dev = await newUser(t);
      const id = await paidPlugin(dev, 999);
      const u = await buyer(null);
      const refused = await install(u, id);
      expect(refused.status).toBe(402);
      // The buyer saves a card and installs (paid off-session), then also pays the Checkout left open.
      fake.setDefaultPaymentMethod(u.customer, 'pm_card_visa');
      expect((await install(u, id)).status).toBe(200);
      const owned = await paymentOf(u, id);
      const completed = fake.completeCheckout((refused.body.checkout_url as string).split('/').pop()!);
      const second = completed.payment_intent as string;
      expect(second).not.toBe(owned);

      // Stripe refuses the first refund attempt: the event stays unprocessed and Stripe delivers it again.
      fake.failOnce('POST', /^\/v1\/refunds$/, {
        status: 400,
        type: 'invalid_request_error',
        message: 'Stripe is having a moment',
      });
      const paid = event('checkout.session.completed', completed);
      expect((await webhook(paid)).status).toBe(502);
      expect((await webhook(paid)).body).toEqual({ ok: true });
      expect((await webhook(paid)).body).toEqual({ ok: true, duplicate: true });
      // The same payment's other events, even after Stripe forgot the idempotency key, refund nothing more.
      fake.forgetIdempotencyKeys();
      await webhook(event('payment_intent.succeeded', { ...fake.paymentIntents.get(second) })).expect(200);
      const refunds = [...fake.refunds.values()].filter((r) => r.payment_intent === second);
      expect(refunds).toEqual([
        expect.objectContaining({ amount: 999, reason: 'duplicate', status: 'succeeded' }),
      ]);
      expect(
        fake
          .requestsTo('POST', '/v1/refunds')
          .filter((r) => r.form.payment_intent === second)
          .map((r) => r.idempotencyKey),
      ).toEqual([`plugin-duplicate-refund:${second}`, `plugin-duplicate-refund:${second}`]);
      // Stripe's charge.refunded of that refund changes neither the purchase nor the ledger.
      await refund(second, 999).expect(200);

      expect(await purchases(u)).toEqual([expect.objectContaining({ status: 'paid', payment_id: owned })]);
      expect((await ledger(dev)).map((e: Obj) => [e.kind, e.payment_id])).toEqual([['sale', owned]]);
      expect(
        await sql.query(
          `SELECT buyer_id, plugin_id, owned_by_payment_id, amount_cents, status, refund_id
             FROM plugin_duplicate_payments WHERE payment_id = $1`,
          [second],
        ),
      ).toEqual([
        {
          buyer_id: u.id,
          plugin_id: id,
          owned_by_payment_id: owned,
          amount_cents: 999,
          status: 'refunded',
          refund_id: refunds[0].id,
        },
      ]);
      expect((await install(u, id)).status).toBe(200);
    });
  });

  describe('webhook endpoints', () => {
    it('refuses events signed with the other endpoint’s secret, and Connect events of accounts not ours', async () => {
      const dev = await connectedDeveloper(false);
      const id = await paidPlugin(dev, 499);
      const u = await buyer(null);
      const refused = await install(u, id);
      const completed = fake.completeCheckout((refused.body.checkout_url as string).split('/').pop()!);
      const purchase = event('checkout.session.completed', completed);
      const forged = await webhook(purchase, CONNECT_SECRET);
      expect(forged.status).toBe(400);
      expect(forged.body.code).toBe('invalid_signature');
      expect((await webhook({ ...purchase, account: dev.account }, CONNECT_SECRET)).status).toBe(400);
      expect(await purchases(u)).toEqual([]);

      const enabled = connectEvent('account.updated', fake.setPayoutsEnabled(dev.account, true));
      const platformSigned = await webhook(enabled, WEBHOOK_SECRET);
      expect(platformSigned.status).toBe(400);
      expect(platformSigned.body.code).toBe('invalid_signature');
      const { account: _account, ...withoutAccount } = enabled;
      expect((await webhook(withoutAccount, CONNECT_SECRET)).status).toBe(400);
      expect((await webhook({ ...enabled, account: rid('acct') }, CONNECT_SECRET)).status).toBe(404);
      // An event of one of our accounts about another account changes nothing.
      const other = await connectedDeveloper(false);
      await webhook({ ...enabled, id: rid('evt'), account: other.account }, CONNECT_SECRET).expect(200);
      for (const d of [dev, other])
        expect(
          (await api().get('/api/v1/plugins/developer').set(d.auth).expect(200)).body.payouts_enabled,
        ).toBe(false);
      expect(await count('SELECT count(*)::int AS n FROM stripe_events WHERE id = $1', [enabled.id])).toBe(0);

      // Each signed by its own endpoint, both are applied.
      await webhook(enabled, CONNECT_SECRET).expect(200);
      expect(
        (await api().get('/api/v1/plugins/developer').set(dev.auth).expect(200)).body.payouts_enabled,
      ).toBe(true);
      await webhook(purchase).expect(200);
      expect(await purchases(u)).toEqual([expect.objectContaining({ status: 'paid' })]);
    });
  });

  describe('payouts across failures', () => {
    const transfersTo = (account: string) =>
      [...fake.transfers.values()].filter((tr) => tr.destination === account);
    const failed = (run: request.Response, developer: TestUser) =>
      (run.body.failed as Array<{ developer_id: string }>).filter((f) => f.developer_id === developer.id);
    const paidTo = (run: request.Response, developer: TestUser) =>
      (run.body.paid as Array<{ developer_id: string }>).filter((p) => p.developer_id === developer.id);

    /** Each of the developer's ledger rows is paid by exactly one transfer at the fake Stripe, of their sum. */
    async function expectPaidOnce(developer: TestUser & { account: string }) {
      const rows = (await ledger(developer)) as Array<{
        transfer_id: string | null;
        developer_share_cents: number;
      }>;
      expect(rows.every((r) => r.transfer_id?.startsWith('tr_'))).toBe(true);
      const transfers = transfersTo(developer.account);
      expect(new Set(rows.map((r) => r.transfer_id))).toEqual(new Set(transfers.map((tr) => tr.id)));
      for (const tr of transfers)
        expect(
          rows.filter((r) => r.transfer_id === tr.id).reduce((sum, r) => sum + r.developer_share_cents, 0),
        ).toBe(tr.amount);
    }

    it('finishes a payout whose transfer was made before the run could record it, without paying twice', async () => {
      const dev = await connectedDeveloper();
      const bystander = await connectedDeveloper();
      for (const d of [dev, bystander])
        for (const price of [499, 999])
          expect((await install(await buyer(), await paidPlugin(d, price))).status).toBe(200);
      const period = thisMonth();
      // The database refuses to record this developer's payout as paid once the transfer is made: the
      // process could as well have stopped there.
      await sql.query(`CREATE FUNCTION test_payout_crash() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.status = 'paid' AND NEW.developer_id = '${dev.id}' THEN RAISE EXCEPTION 'simulated crash'; END IF;
          RETURN NEW;
        END $$`);
      await sql.query(
        'CREATE TRIGGER test_payout_crash BEFORE UPDATE ON plugin_payouts FOR EACH ROW EXECUTE FUNCTION test_payout_crash()',
      );
      let crashed: request.Response;
      try {
        crashed = await payouts(period).expect(200);
      } finally {
        await sql.query('DROP TRIGGER test_payout_crash ON plugin_payouts');
        await sql.query('DROP FUNCTION test_payout_crash()');
      }
      expect(failed(crashed, dev)).toEqual([expect.objectContaining({ reason: 'internal_error' })]);
      expect(paidTo(crashed, bystander)).toHaveLength(1);
      expect(transfersTo(dev.account)).toEqual([expect.objectContaining({ amount: 349 + 699 })]);
      expect((await ledger(dev)).map((e: Obj) => e.transfer_id)).toEqual([null, null]);

      // More than a day later Stripe no longer knows the key: the transfer is found in its group instead.
      fake.forgetIdempotencyKeys();
      const again = await payouts(period).expect(200);
      expect(failed(again, dev)).toEqual([]);
      expect(paidTo(again, dev)).toEqual([
        expect.objectContaining({ amount_cents: 1048, transfer_id: transfersTo(dev.account)[0].id, period }),
      ]);
      expect(transfersTo(dev.account)).toHaveLength(1);
      await expectPaidOnce(dev);

      // The next period pays only what was sold since.
      expect((await install(await buyer(), await paidPlugin(dev, 499))).status).toBe(200);
      const next = await payouts(monthAfter(period)).expect(200);
      expect(paidTo(next, dev)).toEqual([expect.objectContaining({ amount_cents: 349, events: 1 })]);
      expect(transfersTo(dev.account)).toHaveLength(2);
      await expectPaidOnce(dev);
      await expectPaidOnce(bystander);
      expect(transfersTo(bystander.account)).toHaveLength(1);
    });

    it('pays the other developers when one developer’s payout fails, and that one on the next run', async () => {
      const unlucky = await connectedDeveloper();
      const lucky = await connectedDeveloper();
      const mixed = await connectedDeveloper();
      for (const d of [unlucky, lucky, mixed])
        for (const price of [499, 999])
          expect((await install(await buyer(), await paidPlugin(d, price))).status).toBe(200);
      fake.failOnce(
        'POST',
        /^\/v1\/transfers$/,
        { status: 400, type: 'invalid_request_error', message: 'Insufficient funds in your Stripe balance' },
        (form) => form.destination === unlucky.account,
      );
      // A share in another currency: one transfer cannot carry both.
      await sql.query(
        `UPDATE plugin_revenue_events SET currency = 'USD'
          WHERE id = (SELECT id FROM plugin_revenue_events WHERE developer_id = $1 ORDER BY created_at LIMIT 1)`,
        [mixed.id],
      );
      const period = thisMonth();
      const run = await payouts(period).expect(200);
      expect(failed(run, unlucky)).toEqual([
        expect.objectContaining({
          reason: 'provider_error',
          detail: expect.stringContaining('Insufficient funds'),
        }),
      ]);
      expect(failed(run, mixed)).toEqual([expect.objectContaining({ reason: 'mixed_currencies' })]);
      expect(paidTo(run, lucky)).toEqual([expect.objectContaining({ amount_cents: 1048 })]);
      expect(transfersTo(unlucky.account)).toEqual([]);
      expect(transfersTo(mixed.account)).toEqual([]);

      await sql.query(`UPDATE plugin_revenue_events SET currency = 'EUR' WHERE developer_id = $1`, [
        mixed.id,
      ]);
      const again = await payouts(period).expect(200);
      expect(paidTo(again, unlucky)).toEqual([expect.objectContaining({ amount_cents: 1048 })]);
      expect(paidTo(again, mixed)).toEqual([expect.objectContaining({ amount_cents: 1048 })]);
      expect(paidTo(again, lucky)).toEqual([]);
      for (const d of [unlucky, lucky, mixed]) {
        expect(transfersTo(d.account)).toHaveLength(1);
        await expectPaidOnce(d);
      }
      expect(
        fake
          .requestsTo('POST', '/v1/transfers')
          .filter((r) => r.form.destination === unlucky.account)
          .map((r) => r.idempotencyKey),
      ).toEqual([expect.stringMatching(/^plugin-payout:/), expect.stringMatching(/^plugin-payout:/)]);
      const [firstKey, secondKey] = fake
        .requestsTo('POST', '/v1/transfers')
        .filter((r) => r.form.destination === unlucky.account)
        .map((r) => r.idempotencyKey);
      expect(secondKey).toBe(firstKey);
    });
  });
});
