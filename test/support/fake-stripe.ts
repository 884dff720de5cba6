import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StripeRequest {
  method: string;
  path: string;
  form: Record<string, string>;
  idempotencyKey?: string;
}

interface Failure {
  method: string;
  path: RegExp;
  status: number;
  type: string;
  message: string;
  code?: string;
  /** Only requests whose form (or query) this accepts. */
  when?: (form: Record<string, string>) => boolean;
  /** Answered this many more times, then forgotten; unlimited when absent. */
  times?: number;
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

/**
 * A local HTTP server speaking the part of Stripe's API the service calls:
 * form-encoded requests, Stripe-shaped JSON objects and Stripe-shaped errors,
 * idempotency keys, bearer secret keys. The service uses the real `stripe`
 * library against it (STRIPE_API_URL).
 */
export class FakeStripe {
  static readonly SECRET_KEY = 'sk_test_fake_adiuva';
  readonly requests: StripeRequest[] = [];
  readonly customers = new Map<string, Record<string, unknown>>();
  readonly canceled: string[] = [];
  /** Customers deleted through DELETE /v1/customers/:id, in order. */
  readonly deletedCustomers: string[] = [];
  /** Subscription updates (POST /v1/subscriptions/:id): the id and the form sent. */
  readonly subscriptionUpdates: Array<{ id: string; form: Record<string, string> }> = [];
  readonly paymentIntents = new Map<string, Record<string, unknown>>();
  readonly checkoutSessions = new Map<string, Record<string, unknown>>();
  readonly accounts = new Map<string, Record<string, unknown>>();
  readonly transfers = new Map<string, Record<string, unknown>>();
  readonly refunds = new Map<string, Record<string, unknown>>();
  readonly subscriptions = new Map<string, Record<string, unknown>>();
  private readonly idempotent = new Map<string, { status: number; body: unknown }>();
  private failures: Failure[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Answer matching requests with a Stripe error until `clearFailures()`. */
  failWith(method: string, path: RegExp, status: number, type: string, message: string, code?: string): void {
    this.failures.push({ method, path, status, type, message, code });
  }

  /** Answer the next matching request (only those `when` accepts) with a Stripe error, once. */
  failOnce(
    method: string,
    path: RegExp,
    error: { status: number; type: string; message: string; code?: string },
    when?: (form: Record<string, string>) => boolean,
  ): void {
    this.failures.push({ method, path, ...error, when, times: 1 });
  }

  clearFailures(): void {
    this.failures = [];
  }

  /** Stripe keeps idempotency keys for 24 hours: after that a repeated request is a new one. */
  forgetIdempotencyKeys(): void {
    this.idempotent.clear();
  }

  /**
   * A delayed payment (a SEPA debit, created with `pm_sepa_debit`) cleared or failed: the PaymentIntent as
   * payment_intent.succeeded or payment_intent.payment_failed carries it.
   */
  settlePaymentIntent(paymentIntentId: string, outcome: 'succeeded' | 'failed'): Record<string, unknown> {
    const intent = this.paymentIntents.get(paymentIntentId);
    if (!intent) throw new Error(`no payment intent ${paymentIntentId}`);
    if (outcome === 'succeeded')
      Object.assign(intent, { status: 'succeeded', amount_received: intent.amount, latest_charge: id('ch') });
    else
      Object.assign(intent, {
        status: 'requires_payment_method',
        last_payment_error: { type: 'card_error', code: 'payment_intent_payment_attempt_failed' },
      });
    return { ...intent };
  }

  /**
   * Saves a card as the customer's default payment method (invoice_settings), as a subscription checkout
   * does. Stripe's test cards: `pm_card_visa` pays, `pm_card_authenticationRequired` needs its owner
   * (requires_action), `pm_card_chargeDeclined` is declined.
   */
  setDefaultPaymentMethod(customerId: string, paymentMethod: string | null): void {
    const customer = this.customers.get(customerId);
    if (!customer) throw new Error(`no customer ${customerId}`);
    customer.invoice_settings = {
      ...(customer.invoice_settings as object),
      default_payment_method: paymentMethod,
    };
  }

  /** The user paid an open payment-mode Checkout session: its PaymentIntent succeeds; answers the completed session. */
  completeCheckout(sessionId: string): Record<string, unknown> {
    const session = this.checkoutSessions.get(sessionId);
    if (!session) throw new Error(`no checkout session ${sessionId}`);
    const intent = this.newPaymentIntent({
      amount: session.amount_total as number,
      currency: session.currency as string,
      customer: session.customer as string,
      metadata: (session.payment_intent_metadata as Record<string, string>) ?? {},
      status: 'succeeded',
    });
    Object.assign(session, { status: 'complete', payment_status: 'paid', payment_intent: intent.id });
    const { payment_intent_metadata: _ignored, ...completed } = session;
    return completed;
  }

  /** A charge object as Stripe sends it in charge.refunded, after `refunded` cents of the payment were refunded. */
  refundedCharge(paymentIntentId: string, refunded: number): Record<string, unknown> {
    const intent = this.paymentIntents.get(paymentIntentId);
    if (!intent) throw new Error(`no payment intent ${paymentIntentId}`);
    return {
      id: intent.latest_charge,
      object: 'charge',
      amount: intent.amount,
      amount_captured: intent.amount,
      amount_refunded: refunded,
      currency: intent.currency,
      customer: intent.customer,
      payment_intent: intent.id,
      paid: true,
      refunded: refunded >= (intent.amount as number),
      status: 'succeeded',
      metadata: {},
      livemode: false,
    };
  }

  /** Stripe finished the developer's onboarding (or not): the account as account.updated carries it. */
  setPayoutsEnabled(accountId: string, enabled: boolean): Record<string, unknown> {
    const account = this.accounts.get(accountId);
    if (!account) throw new Error(`no account ${accountId}`);
    Object.assign(account, {
      payouts_enabled: enabled,
      charges_enabled: enabled,
      details_submitted: enabled,
    });
    return { ...account };
  }

  /**
   * A subscription as Stripe holds one after a subscription Checkout was paid: one item of `price`
   * with `quantity` (seats), active for a month. Answers it as customer.subscription.* events carry it.
   */
  createSubscription(o: {
    price: string;
    quantity?: number;
    customer?: string;
    metadata?: Record<string, string>;
    status?: string;
  }): Record<string, unknown> {
    const created = Math.floor(Date.now() / 1000);
    const subscriptionId = id('sub');
    const subscription: Record<string, unknown> = {
      id: subscriptionId,
      object: 'subscription',
      created,
      customer: o.customer ?? id('cus'),
      status: o.status ?? 'active',
      cancel_at_period_end: false,
      metadata: o.metadata ?? {},
      items: {
        object: 'list',
        data: [
          {
            id: id('si'),
            object: 'subscription_item',
            subscription: subscriptionId,
            price: { id: o.price, object: 'price' },
            quantity: o.quantity ?? 1,
            current_period_start: created,
            current_period_end: created + 30 * 86400,
          },
        ],
        has_more: false,
        url: `/v1/subscription_items?subscription=${subscriptionId}`,
      },
      livemode: false,
    };
    this.subscriptions.set(subscriptionId, subscription);
    return structuredClone(subscription);
  }

  /** The subscription as Stripe holds it now (what the next customer.subscription.updated carries). */
  subscription(subscriptionId: string): Record<string, unknown> {
    const found = this.subscriptions.get(subscriptionId);
    if (!found) throw new Error(`no subscription ${subscriptionId}`);
    return structuredClone(found);
  }

  requestsTo(method: string, path: string | RegExp): StripeRequest[] {
    return this.requests.filter(
      (r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)),
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const [path, query = ''] = (req.url ?? '').split('?');
    // Stripe's library sends a GET's parameters in the query string, the others' in the body.
    const form = Object.fromEntries(
      new URLSearchParams(req.method === 'GET' ? query : Buffer.concat(chunks).toString('utf8')),
    );
    const method = req.method ?? 'GET';
    const idem = req.headers['idempotency-key'] as string | undefined;
    this.requests.push({ method, path, form, idempotencyKey: idem });

    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Request-Id': id('req') });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${FakeStripe.SECRET_KEY}`) {
      return send(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
    }
    const failure = this.failures.find(
      (f) => f.method === method && f.path.test(path) && (!f.when || f.when(form)),
    );
    if (failure) {
      if (failure.times !== undefined && --failure.times <= 0)
        this.failures = this.failures.filter((f) => f !== failure);
      return send(failure.status, {
        error: { type: failure.type, message: failure.message, code: failure.code },
      });
    }
    const key = idem ? `${method} ${path} ${idem}` : undefined;
    if (key && this.idempotent.has(key)) {
      const prior = this.idempotent.get(key)!;
      return send(prior.status, prior.body);
    }
    const [status, body] = this.route(method, path, form);
    if (key) this.idempotent.set(key, { status, body });
    send(status, body);
  }

  private newPaymentIntent(o: {
    amount: number;
    currency: string;
    customer: string;
    metadata: Record<string, string>;
    status: string;
    paymentMethod?: string;
  }): Record<string, unknown> {
    const intent: Record<string, unknown> = {
      id: id('pi'),
      object: 'payment_intent',
      created: Math.floor(Date.now() / 1000),
      amount: o.amount,
      amount_received: o.status === 'succeeded' ? o.amount : 0,
      currency: o.currency,
      customer: o.customer,
      payment_method: o.paymentMethod ?? id('pm'),
      metadata: o.metadata,
      status: o.status,
      latest_charge: o.status === 'succeeded' ? id('ch') : null,
      next_action: o.status === 'requires_action' ? { type: 'use_stripe_sdk', use_stripe_sdk: {} } : null,
      livemode: false,
    };
    this.paymentIntents.set(intent.id as string, intent);
    return intent;
  }

  /** PaymentIntents, Connect accounts and links, transfers and their reversals, as Stripe answers them. */
  private routeMarketplace(
    method: string,
    path: string,
    form: Record<string, string>,
    created: number,
  ): [number, unknown] | undefined {
    const customer = /^\/v1\/customers\/(cus_[A-Za-z0-9_]+)$/.exec(path);
    if (method === 'GET' && customer) {
      const found = this.customers.get(customer[1]);
      return found
        ? [200, { invoice_settings: { default_payment_method: null }, ...found }]
        : invalid(`No such customer: '${customer[1]}'`, 'id');
    }
    if (method === 'POST' && path === '/v1/payment_intents') return this.createPaymentIntent(form);
    const intent = /^\/v1\/payment_intents\/(pi_[A-Za-z0-9_]+)$/.exec(path);
    if (method === 'GET' && intent) {
      const found = this.paymentIntents.get(intent[1]);
      return found ? [200, found] : invalid(`No such payment_intent: '${intent[1]}'`, 'intent');
    }
    if (method === 'POST' && path === '/v1/accounts') {
      const account = {
        id: id('acct'),
        object: 'account',
        type: form.type,
        created,
        email: form.email ?? null,
        metadata: metadataOf(form),
        charges_enabled: false,
        payouts_enabled: false,
        details_submitted: false,
        capabilities: { transfers: 'inactive' },
      };
      this.accounts.set(account.id, account);
      return [200, account];
    }
    if (method === 'POST' && path === '/v1/account_links') {
      if (!this.accounts.has(form.account)) return invalid(`No such account: '${form.account}'`, 'account');
      if (!form.refresh_url || !form.return_url || form.type !== 'account_onboarding')
        return invalid('refresh_url, return_url and type are required');
      return [
        200,
        {
          object: 'account_link',
          created,
          expires_at: created + 300,
          url: `https://connect.stripe.com/setup/e/${form.account}/${randomBytes(8).toString('hex')}`,
        },
      ];
    }
    if (method === 'POST' && path === '/v1/transfers') return this.createTransfer(form, created);
    if (method === 'GET' && path === '/v1/transfers')
      return list(
        [...this.transfers.values()].filter(
          (t) => !form.transfer_group || t.transfer_group === form.transfer_group,
        ),
        path,
      );
    const reversal = /^\/v1\/transfers\/(tr_[A-Za-z0-9_]+)\/reversals$/.exec(path);
    if (method === 'POST' && reversal) return this.reverseTransfer(reversal[1], form, created);
    if (method === 'GET' && reversal) {
      const transfer = this.transfers.get(reversal[1]);
      if (!transfer) return invalid(`No such transfer: '${reversal[1]}'`, 'id');
      return list((transfer.reversals as { data: Array<Record<string, unknown>> }).data, path);
    }
    if (method === 'POST' && path === '/v1/refunds') return this.createRefund(form, created);
    if (method === 'GET' && path === '/v1/refunds')
      return list(
        [...this.refunds.values()].filter(
          (r) => !form.payment_intent || r.payment_intent === form.payment_intent,
        ),
        path,
      );
    return undefined;
  }

  /** A refund of a PaymentIntent that succeeded (in full unless `amount`); never more than was paid. */
  private createRefund(form: Record<string, string>, created: number): [number, unknown] {
    const intent = this.paymentIntents.get(form.payment_intent);
    if (!intent) return invalid(`No such payment_intent: '${form.payment_intent}'`, 'payment_intent');
    if (intent.status !== 'succeeded')
      return invalid('This PaymentIntent does not have a successful charge to refund.', 'payment_intent');
    const refunded = (intent.amount_refunded as number | undefined) ?? 0;
    const amount = form.amount === undefined ? (intent.amount as number) - refunded : Number(form.amount);
    if (refunded >= (intent.amount as number))
      return [
        400,
        {
          error: {
            type: 'invalid_request_error',
            code: 'charge_already_refunded',
            message: `Charge ${String(intent.latest_charge)} has already been refunded.`,
          },
        },
      ];
    if (!Number.isInteger(amount) || amount < 1 || refunded + amount > (intent.amount as number))
      return invalid('Refund amount is greater than the unrefunded amount', 'amount');
    intent.amount_refunded = refunded + amount;
    const refund = {
      id: id('re'),
      object: 'refund',
      created,
      amount,
      currency: intent.currency,
      charge: intent.latest_charge,
      payment_intent: intent.id,
      reason: form.reason ?? null,
      metadata: metadataOf(form),
      status: 'succeeded',
    };
    this.refunds.set(refund.id, refund);
    return [200, refund];
  }

  private createPaymentIntent(form: Record<string, string>): [number, unknown] {
    if (!form.customer || !this.customers.has(form.customer))
      return invalid(`No such customer: '${form.customer}'`, 'customer');
    const amount = Number(form.amount);
    if (!Number.isInteger(amount) || amount < 1) return invalid('Invalid integer: amount', 'amount');
    const outcome: Record<string, string> = {
      pm_card_visa: 'succeeded',
      pm_card_authenticationRequired: 'requires_action',
      // A bank debit: Stripe answers at once that it is processing; it clears (or fails) days later.
      pm_sepa_debit: 'processing',
    };
    const status = outcome[form.payment_method];
    const base = {
      amount,
      currency: form.currency,
      customer: form.customer,
      metadata: metadataOf(form),
      paymentMethod: form.payment_method,
    };
    if (status) return [200, this.newPaymentIntent({ ...base, status })];
    // pm_card_chargeDeclined (and any other card): declined, as Stripe answers a confirm that fails.
    const declined = this.newPaymentIntent({ ...base, status: 'requires_payment_method' });
    return [
      402,
      {
        error: {
          type: 'card_error',
          code: 'card_declined',
          decline_code: 'generic_decline',
          message: 'Your card was declined.',
          payment_intent: declined,
        },
      },
    ];
  }

  private createTransfer(form: Record<string, string>, created: number): [number, unknown] {
    const account = this.accounts.get(form.destination);
    if (!account) return invalid(`No such destination: '${form.destination}'`, 'destination');
    if (!account.payouts_enabled)
      return invalid(
        'Your destination account needs to have at least one of the following capabilities enabled: transfers',
      );
    const amount = Number(form.amount);
    if (!Number.isInteger(amount) || amount < 1) return invalid('Invalid positive integer', 'amount');
    const transfer = {
      id: id('tr'),
      object: 'transfer',
      created,
      amount,
      amount_reversed: 0,
      currency: form.currency,
      destination: form.destination,
      metadata: metadataOf(form),
      reversed: false,
      transfer_group: form.transfer_group ?? null,
      reversals: { object: 'list', data: [], has_more: false, url: '' },
    };
    this.transfers.set(transfer.id, transfer);
    return [200, transfer];
  }

  private reverseTransfer(
    transferId: string,
    form: Record<string, string>,
    created: number,
  ): [number, unknown] {
    const transfer = this.transfers.get(transferId);
    if (!transfer) return invalid(`No such transfer: '${transferId}'`, 'id');
    const amount =
      form.amount === undefined
        ? (transfer.amount as number) - (transfer.amount_reversed as number)
        : Number(form.amount);
    if (amount < 1 || amount > (transfer.amount as number) - (transfer.amount_reversed as number))
      return invalid('Amount exceeds the transfer’s unreversed amount', 'amount');
    const reversalObject = {
      id: id('trr'),
      object: 'transfer_reversal',
      amount,
      created,
      currency: transfer.currency,
      transfer: transferId,
      metadata: metadataOf(form),
    };
    transfer.amount_reversed = (transfer.amount_reversed as number) + amount;
    transfer.reversed = transfer.amount_reversed === transfer.amount;
    (transfer.reversals as { data: unknown[] }).data.push(reversalObject);
    return [200, reversalObject];
  }

  private subscriptionRoute(
    method: string,
    subscriptionId: string,
    form: Record<string, string>,
  ): [number, unknown] {
    const subscription = this.subscriptions.get(subscriptionId);
    if (!subscription)
      return [
        404,
        {
          error: {
            type: 'invalid_request_error',
            code: 'resource_missing',
            param: 'id',
            message: `No such subscription: '${subscriptionId}'`,
          },
        },
      ];
    if (method === 'GET') return [200, structuredClone(subscription)];
    return updateSubscription(subscription, form);
  }

  /**
   * As Stripe does: deleting a customer answers `{id, object, deleted: true}` and a second delete (or one of
   * an unknown id) 404 `resource_missing`; updating a subscription answers it with the new
   * `cancel_at_period_end` (its status stays active until the period ends).
   */
  private routeDeletions(
    method: string,
    path: string,
    form: Record<string, string>,
    created: number,
  ): [number, unknown] | undefined {
    const customer = /^\/v1\/customers\/(cus_[A-Za-z0-9_]+)$/.exec(path);
    if (method === 'DELETE' && customer) {
      const found = this.customers.get(customer[1]);
      if (!found || found.deleted) {
        const message = `No such customer: '${customer[1]}'`;
        return [
          404,
          { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'id', message } },
        ];
      }
      this.customers.set(customer[1], { id: customer[1], object: 'customer', deleted: true });
      this.deletedCustomers.push(customer[1]);
      return [200, { id: customer[1], object: 'customer', deleted: true }];
    }
    const subscription = /^\/v1\/subscriptions\/(sub_[A-Za-z0-9_]+)$/.exec(path);
    if (method === 'POST' && subscription) {
      this.subscriptionUpdates.push({ id: subscription[1], form });
      // One the fake holds (createSubscription) is updated in full, items and all (subscriptionRoute).
      if (this.subscriptions.has(subscription[1])) return undefined;
      const cancelAtPeriodEnd = form.cancel_at_period_end === 'true';
      const status = 'active';
      return [
        200,
        {
          id: subscription[1],
          object: 'subscription',
          status,
          cancel_at_period_end: cancelAtPeriodEnd,
          created,
        },
      ];
    }
    return undefined;
  }

  private route(method: string, path: string, form: Record<string, string>): [number, unknown] {
    const created = Math.floor(Date.now() / 1000);
    if (method === 'POST' && path === '/v1/customers') {
      const customer = {
        id: id('cus'),
        object: 'customer',
        created,
        email: form.email ?? null,
        metadata: metadataOf(form),
        livemode: false,
      };
      this.customers.set(customer.id, customer);
      return [200, customer];
    }
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      if (!form.customer || !this.customers.has(form.customer)) {
        return [
          400,
          { error: { type: 'invalid_request_error', message: `No such customer: '${form.customer}'` } },
        ];
      }
      const sessionId = id('cs_test');
      const session = {
        id: sessionId,
        object: 'checkout.session',
        created,
        mode: form.mode,
        status: 'open',
        payment_status: 'unpaid',
        customer: form.customer,
        client_reference_id: form.client_reference_id ?? null,
        metadata: metadataOf(form),
        amount_total: form.mode === 'payment' ? Number(form['line_items[0][price_data][unit_amount]']) : null,
        currency: form['line_items[0][price_data][currency]'] ?? 'eur',
        // Stripe makes the PaymentIntent of a payment-mode session when it is paid.
        payment_intent: null,
        url: `https://checkout.stripe.com/c/pay/${sessionId}`,
        livemode: false,
      };
      this.checkoutSessions.set(sessionId, {
        ...session,
        payment_intent_metadata: metadataOf(form, 'payment_intent_data[metadata]['),
      });
      return [200, session];
    }
    const more = this.routeMarketplace(method, path, form, created);
    if (more) return more;
    const deleted = this.routeDeletions(method, path, form, created);
    if (deleted) return deleted;
    const cancel = /^\/v1\/subscriptions\/(sub_[A-Za-z0-9_]+)$/.exec(path);
    if (cancel && (method === 'GET' || method === 'POST'))
      return this.subscriptionRoute(method, cancel[1], form);
    if (method === 'DELETE' && cancel) {
      this.canceled.push(cancel[1]);
      const stored = this.subscriptions.get(cancel[1]);
      if (stored) Object.assign(stored, { status: 'canceled', canceled_at: created });
      return [200, { id: cancel[1], object: 'subscription', status: 'canceled', canceled_at: created }];
    }
    return [
      404,
      { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` } },
    ];
  }
}

/** Retrieving a subscription, and updating its items' quantities as Stripe does (prorations are Stripe's own business). */
function updateSubscription(
  subscription: Record<string, unknown>,
  form: Record<string, string>,
): [number, unknown] {
  if (subscription.status === 'canceled')
    return invalid('A canceled subscription can only update its cancellation_details and metadata.');
  const behavior = form.proration_behavior;
  if (behavior !== undefined && !['create_prorations', 'always_invoice', 'none'].includes(behavior))
    return invalid(
      `Invalid proration_behavior: must be one of create_prorations, always_invoice, or none`,
      'proration_behavior',
    );
  const items = (subscription.items as { data: Array<Record<string, unknown>> }).data;
  const changes: Array<{ item: Record<string, unknown>; quantity: number }> = [];
  for (let index = 0; form[`items[${index}][id]`] !== undefined; index++) {
    const itemId = form[`items[${index}][id]`];
    const item = items.find((candidate) => candidate.id === itemId);
    if (!item) return invalid(`Invalid subscription_item id: ${itemId}`, `items[${index}][id]`);
    const raw = form[`items[${index}][quantity]`];
    const quantity = raw === undefined ? (item.quantity as number) : Number(raw);
    if (!Number.isInteger(quantity) || quantity < 0)
      return invalid('Invalid non-negative integer', `items[${index}][quantity]`);
    changes.push({ item, quantity });
  }
  for (const { item, quantity } of changes) item.quantity = quantity;
  if (form.cancel_at_period_end !== undefined)
    subscription.cancel_at_period_end = form.cancel_at_period_end === 'true';
  return [200, structuredClone(subscription)];
}

function metadataOf(form: Record<string, string>, prefix = 'metadata['): Record<string, string> {
  return Object.fromEntries(
    Object.entries(form)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length, -1), v]),
  );
}

const list = (data: unknown[], url: string): [number, unknown] => [
  200,
  { object: 'list', data, has_more: false, url },
];

const invalid = (message: string, param?: string): [number, unknown] => [
  400,
  { error: { type: 'invalid_request_error', message, ...(param ? { param } : {}) } },
];
