import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config.js';
import { AuditService } from '../audit/index.js';
import { effectiveTierOf } from './effective-tier.js';
import { PAID_TIERS, type WebhookAckDto } from './dto/billing.dto.js';
import { BILLING_NOT_CONFIGURED, PaymentsGateway, type VerifiedEvent } from './payments.gateway.js';
import { BillingException } from './billing.errors.js';

type Obj = Record<string, unknown>;

interface SubRow {
  id: string;
  user_id: string;
  tier: string;
  status: string;
  current_period_end: Date | null;
  last_event_at: Date | null;
  stripe_subscription_id: string | null;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});
const STALE = 'stale: newer state already applied';
/** An event older than the last one applied to the subscription must not overwrite it. */
const isStale = (row: { last_event_at: Date | null } | undefined, at: Date) =>
  !!row?.last_event_at && row.last_event_at > at;
/** Stripe sends ids as strings, or as objects when expanded. */
const idOf = (v: unknown): string | undefined => str(v) ?? str(obj(v).id);

/**
 * Stripe webhooks: verified on the raw body, stored before acting, acted on
 * once (replays answer 200 and change nothing), never letting an older event
 * overwrite newer state. State comes from the payloads alone.
 */
@Injectable()
export class BillingWebhookService {
  private readonly logger = new Logger('Billing');

  constructor(
    private readonly ds: DataSource,
    private readonly config: AppConfig,
    private readonly gateway: PaymentsGateway,
    private readonly audit: AuditService,
  ) {}

  async receive(rawBody: unknown, signature: string | undefined): Promise<WebhookAckDto> {
    if (!this.gateway.configured)
      throw new BillingException('feature_not_configured', BILLING_NOT_CONFIGURED);
    if (!Buffer.isBuffer(rawBody) || rawBody.length === 0)
      throw new BillingException('validation_failed', 'Empty webhook body');
    if (!signature) throw new BillingException('invalid_signature', 'Missing Stripe-Signature header');
    let event: VerifiedEvent;
    try {
      event = this.gateway.verifyWebhook(rawBody, signature);
    } catch (err) {
      if (err instanceof BillingException) throw err;
      throw new BillingException('invalid_signature', `Invalid Stripe signature: ${(err as Error).message}`);
    }

    // Stored first, outside the processing transaction: a failed attempt leaves it unprocessed for Stripe's retry.
    await this.ds.query(
      `INSERT INTO stripe_events (id, type, created, payload) VALUES ($1, $2, to_timestamp($3), $4)
       ON CONFLICT (id) DO NOTHING`,
      [event.id, event.type, event.created, JSON.stringify(event.raw)],
    );
    return this.ds.transaction(async (m) => {
      await m.query(`SET LOCAL lock_timeout = '5s'`);
      const [stored] = await m.query<Array<{ processed_at: Date | null }>>(
        'SELECT processed_at FROM stripe_events WHERE id = $1 FOR UPDATE',
        [event.id],
      );
      if (stored?.processed_at) return { ok: true as const, duplicate: true };
      const outcome = await this.apply(m, event);
      await m.query('UPDATE stripe_events SET processed_at = now(), outcome = $2 WHERE id = $1', [
        event.id,
        outcome.slice(0, 200),
      ]);
      this.logger.log(`Stripe ${event.type} ${event.id}: ${outcome}`);
      return { ok: true as const };
    });
  }

  private apply(m: EntityManager, event: VerifiedEvent): Promise<string> {
    const o = event.data.object;
    const at = new Date(event.created * 1000);
    switch (event.type) {
      case 'checkout.session.completed':
        return this.checkoutCompleted(m, o, at, event);
      case 'customer.subscription.created':
      case 'customer.subscription.updated':
        return this.subscriptionUpdated(m, o, at, event);
      case 'customer.subscription.deleted':
        return this.subscriptionDeleted(m, o, at, event);
      case 'invoice.payment_failed':
        return this.paymentFailed(m, o, at, event);
      default:
        return Promise.resolve('ignored: event type not handled');
    }
  }

  private async checkoutCompleted(
    m: EntityManager,
    session: Obj,
    at: Date,
    event: VerifiedEvent,
  ): Promise<string> {
    const userId = str(session.client_reference_id) ?? str(obj(session.metadata).user_id);
    const customerId = idOf(session.customer);
    const subscriptionId = idOf(session.subscription);
    const tier = str(obj(session.metadata).tier);
    if (!userId || !(await this.userExists(m, userId))) return 'ignored: no matching user';
    if (customerId) {
      await m.query('UPDATE users SET stripe_customer_id = $2 WHERE id = $1 AND stripe_customer_id IS NULL', [
        userId,
        customerId,
      ]);
    }
    const row = await this.lockSub(m, 'user_id = $1', [userId]);
    if (row?.last_event_at && row.last_event_at > at) {
      // Newer state already arrived (out of order): only link what is missing.
      await m.query(
        `UPDATE subscriptions SET stripe_subscription_id = COALESCE(stripe_subscription_id, $2),
                stripe_customer_id = COALESCE(stripe_customer_id, $3) WHERE id = $1`,
        [row.id, subscriptionId ?? null, customerId ?? null],
      );
      return 'linked; newer state kept';
    }
    if (!tier || !(PAID_TIERS as readonly string[]).includes(tier))
      return 'ignored: no paid tier in metadata';
    return this.writeState(m, userId, row, event, {
      stripe_subscription_id: subscriptionId ?? row?.stripe_subscription_id ?? null,
      stripe_customer_id: customerId ?? null,
      tier,
      status: 'active',
      last_event_at: at,
    });
  }

  private async subscriptionUpdated(
    m: EntityManager,
    sub: Obj,
    at: Date,
    event: VerifiedEvent,
  ): Promise<string> {
    const found = await this.findSubscriber(m, sub);
    if (!found) return 'ignored: no matching user';
    const { userId, row } = found;
    if (isStale(row, at)) return STALE;
    const item = obj(((obj(sub.items).data as unknown[]) ?? [])[0]);
    const priceId = idOf(item.price);
    const tier = priceId ? this.tierForPrice(priceId) : undefined;
    if (!tier && !row) return `ignored: price ${priceId ?? '(none)'} is not a configured tier`;
    if (!tier)
      this.logger.warn(`Stripe ${event.id}: price ${priceId} is not configured; tier left as it was`);
    const periodEnd = Number(item.current_period_end ?? sub.current_period_end);
    return this.writeState(m, userId, row, event, {
      stripe_subscription_id: idOf(sub.id) ?? null,
      stripe_customer_id: idOf(sub.customer) ?? null,
      tier: tier ?? row!.tier,
      status: str(sub.status) ?? row?.status ?? 'active',
      current_period_end: Number.isFinite(periodEnd) && periodEnd > 0 ? new Date(periodEnd * 1000) : null,
      cancel_at_period_end: sub.cancel_at_period_end === true,
      seats:
        typeof item.quantity === 'number' && Number.isInteger(item.quantity) && item.quantity > 0
          ? item.quantity
          : 1,
      last_event_at: at,
    });
  }

  private async subscriptionDeleted(
    m: EntityManager,
    sub: Obj,
    at: Date,
    event: VerifiedEvent,
  ): Promise<string> {
    const found = await this.findSubscriber(m, sub);
    if (!found?.row) return 'ignored: no matching subscription';
    if (isStale(found.row, at)) return STALE;
    return this.writeState(m, found.userId, found.row, event, {
      status: 'canceled',
      cancel_at_period_end: false,
      last_event_at: at,
    });
  }

  private async paymentFailed(
    m: EntityManager,
    invoice: Obj,
    at: Date,
    event: VerifiedEvent,
  ): Promise<string> {
    const subscriptionId =
      idOf(invoice.subscription) ?? idOf(obj(obj(invoice.parent).subscription_details).subscription);
    if (!subscriptionId) return 'ignored: invoice without subscription';
    const row = await this.lockSub(m, 'stripe_subscription_id = $1', [subscriptionId]);
    if (!row) return 'ignored: no matching subscription';
    if (isStale(row, at)) return STALE;
    if (row.status === 'canceled') return 'ignored: subscription already canceled';
    // Paid features stay until the paid period ends (effectiveTier), then the tier lapses.
    return this.writeState(m, row.user_id, row, event, { status: 'past_due', last_event_at: at });
  }

  /** Upserts the user's subscription row and audits a change of effective tier. */
  private async writeState(
    m: EntityManager,
    userId: string,
    row: SubRow | undefined,
    event: VerifiedEvent,
    fields: Record<string, unknown>,
  ): Promise<string> {
    const before = await effectiveTierOf(m, userId, this.config.defaultTier);
    if (row) {
      const keys = Object.keys(fields);
      await m.query(
        `UPDATE subscriptions SET ${keys.map((k, i) => `${k} = $${i + 2}`).join(', ')}, updated_at = now() WHERE id = $1`,
        [row.id, ...keys.map((k) => fields[k])],
      );
    } else {
      const all = { id: randomUUID(), user_id: userId, ...fields };
      const keys = Object.keys(all);
      await m.query(
        `INSERT INTO subscriptions (${keys.join(', ')}) VALUES (${keys.map((_, i) => `$${i + 1}`).join(', ')})`,
        keys.map((k) => all[k as keyof typeof all]),
      );
    }
    const after = await effectiveTierOf(m, userId, this.config.defaultTier);
    if (after !== before) {
      await this.audit.record(
        {
          eventType: 'tier.changed',
          subjectId: userId,
          reason: `stripe ${event.type}`,
          data: { from: before, to: after, stripe_event_id: event.id },
        },
        m,
      );
    }
    const status = typeof fields.status === 'string' ? fields.status : row?.status;
    return `applied (${status}, tier ${before} -> ${after})`;
  }

  /** The user a subscription belongs to: its metadata, its customer, or an existing row. */
  private async findSubscriber(
    m: EntityManager,
    sub: Obj,
  ): Promise<{ userId: string; row?: SubRow } | undefined> {
    const subscriptionId = idOf(sub.id);
    if (subscriptionId) {
      const row = await this.lockSub(m, 'stripe_subscription_id = $1', [subscriptionId]);
      if (row) return { userId: row.user_id, row };
    }
    let userId = str(obj(sub.metadata).user_id);
    if (userId && !(await this.userExists(m, userId))) userId = undefined;
    const customerId = idOf(sub.customer);
    if (!userId && customerId) {
      const [u] = await m.query<Array<{ id: string }>>('SELECT id FROM users WHERE stripe_customer_id = $1', [
        customerId,
      ]);
      userId = u?.id;
    }
    if (!userId) return undefined;
    return { userId, row: await this.lockSub(m, 'user_id = $1', [userId]) };
  }

  private async lockSub(m: EntityManager, where: string, params: unknown[]): Promise<SubRow | undefined> {
    const [row] = await m.query<SubRow[]>(
      `SELECT id, user_id, tier, status, current_period_end, last_event_at, stripe_subscription_id
         FROM subscriptions WHERE ${where} FOR UPDATE`,
      params,
    );
    return row;
  }

  private async userExists(m: EntityManager, userId: string): Promise<boolean> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(userId)) return false;
    const rows = await m.query<unknown[]>('SELECT 1 FROM users WHERE id = $1', [userId]);
    return rows.length > 0;
  }

  private tierForPrice(priceId: string): string | undefined {
    const prices = this.config.stripe.prices;
    return (Object.keys(prices) as Array<keyof typeof prices>).find((t) => prices[t] === priceId);
  }
}
