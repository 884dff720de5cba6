import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { type Tx, UnitOfWork } from '../../database/unit-of-work.js';
import { AccountsService } from '../auth/index.js';
import { BillingRepository, type SubscriptionFields } from './billing.repository.js';
import type { Subscription } from './entities/subscription.entity.js';
import { PAID_TIERS, type WebhookAckDto } from './dto/billing.dto.js';
import { BILLING_NOT_CONFIGURED, PaymentsGateway, type VerifiedEvent } from './payments.gateway.js';
import { BillingException } from './billing.errors.js';
import { StripeEventHandlers, type StripeEventOutcome } from './stripe-event-handlers.js';

type Obj = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});
const STALE = 'stale: newer state already applied';
/** An event older than the last one applied to the subscription must not overwrite it. */
const isStale = (row: Subscription | null | undefined, at: Date) =>
  !!row?.lastEventAt && row.lastEventAt > at;
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
    private readonly billing: BillingRepository,
    private readonly accounts: AccountsService,
    private readonly config: AppConfig,
    private readonly gateway: PaymentsGateway,
    private readonly handlers: StripeEventHandlers,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async receive(rawBody: unknown, signature: string | undefined): Promise<WebhookAckDto> {
    if (!this.gateway.configured)
      throw new BillingException('feature_not_configured', BILLING_NOT_CONFIGURED);
    if (!Buffer.isBuffer(rawBody) || rawBody.length === 0)
      throw new BillingException('validation_failed', 'Empty webhook body');
    if (!signature) throw new BillingException('invalid_signature', 'Missing Stripe-Signature header');
    const event = this.verify(rawBody, signature);
    await this.checkSource(event);
    // Stored first, outside the processing transaction: a failed attempt leaves it unprocessed for Stripe's retry.
    await this.billing.storeEvent({
      id: event.id,
      type: event.type,
      created: event.created,
      payload: event.raw,
    });
    const applied = await this.unitOfWork.run(async (tx) => {
      if ((await this.billing.lockEvent(tx, event.id)).processed) return 'duplicate' as const;
      const outcome = await this.apply(tx, event);
      // With a follow-up the event stays unprocessed until it succeeded (see StripeEventOutcome).
      if (typeof outcome !== 'string') return outcome;
      await this.billing.markProcessed(tx, event.id, outcome);
      this.logger.log(`Stripe ${event.type} ${event.id}: ${outcome}`);
      return 'done' as const;
    });
    if (applied === 'duplicate') return { ok: true, duplicate: true };
    if (applied === 'done') return { ok: true };
    const outcome = `${applied.outcome}; ${await applied.followUp()}`;
    await this.unitOfWork.run((tx) => this.billing.markProcessed(tx, event.id, outcome));
    this.logger.log(`Stripe ${event.type} ${event.id}: ${outcome}`);
    return { ok: true };
  }

  /**
   * Each endpoint's secret verifies only its own events: the platform's those
   * of our account, the Connect endpoint's those of the connected accounts of
   * our developers (`event.account`), of the types registered for it. So a
   * leaked Connect secret cannot forge a purchase, nor the platform's an
   * account's payout state. An account we do not know yet (its event raced
   * our record of it) answers 404, and Stripe delivers the event again later.
   */
  private async checkSource(event: VerifiedEvent): Promise<void> {
    const expected = this.handlers.sourceOf(event.type);
    if (event.source === 'platform' && (expected === 'connect' || event.account))
      throw new BillingException(
        'invalid_signature',
        `Stripe ${event.type}${event.account ? ` of a connected account` : ''} is verified only by the Connect ` +
          'endpoint’s secret (STRIPE_CONNECT_WEBHOOK_SECRET)',
      );
    if (event.source === 'connect' && (expected !== 'connect' || !event.account))
      throw new BillingException(
        'invalid_signature',
        `The Connect endpoint’s secret verifies only events of a connected account of types ` +
          `${this.handlers.connectEventTypes().join(', ') || '(none)'}; not ${event.type}` +
          (event.account ? '' : ' without an account'),
      );
    if (event.source === 'connect' && !(await this.handlers.isKnownConnectedAccount(event.account!)))
      throw new BillingException(
        'not_found',
        `Stripe ${event.type}: ${event.account} is not a connected account of ours`,
      );
  }

  private verify(rawBody: Buffer, signature: string): VerifiedEvent {
    try {
      return this.gateway.verifyWebhook(rawBody, signature);
    } catch (err) {
      if (err instanceof BillingException) throw err;
      throw new BillingException('invalid_signature', `Invalid Stripe signature: ${(err as Error).message}`);
    }
  }

  private apply(tx: Tx, event: VerifiedEvent): Promise<StripeEventOutcome> {
    // Other modules' events (plugin purchases, refunds, connected accounts) go to the handler they registered.
    const handler = this.handlers.handlerFor(event);
    if (handler) return handler(tx, event);
    const payload = event.data.object;
    const at = new Date(event.created * 1000);
    switch (event.type) {
      case 'checkout.session.completed':
        return this.checkoutCompleted(tx, payload, at, event);
      case 'customer.subscription.created':
      case 'customer.subscription.updated':
        return this.subscriptionUpdated(tx, payload, at, event);
      case 'customer.subscription.deleted':
        return this.subscriptionDeleted(tx, payload, at, event);
      case 'invoice.payment_failed':
        return this.paymentFailed(tx, payload, at, event);
      default:
        return Promise.resolve('ignored: event type not handled');
    }
  }

  private async checkoutCompleted(tx: Tx, session: Obj, at: Date, event: VerifiedEvent): Promise<string> {
    const userId = str(session.client_reference_id) ?? str(obj(session.metadata).user_id);
    const customerId = idOf(session.customer);
    const subscriptionId = idOf(session.subscription);
    const tier = str(obj(session.metadata).tier);
    if (!userId || !(await this.userExists(tx, userId))) return 'ignored: no matching user';
    if (customerId) await this.accounts.keepStripeCustomerId(userId, customerId, tx);
    const row = await this.billing.lockByUser(tx, userId);
    if (isStale(row, at)) {
      // Newer state already arrived (out of order): only link what is missing.
      await this.billing.linkStripeIds(tx, row!.id, {
        subscriptionId: subscriptionId ?? null,
        customerId: customerId ?? null,
      });
      return 'linked; newer state kept';
    }
    if (!tier || !(PAID_TIERS as readonly string[]).includes(tier))
      return 'ignored: no paid tier in metadata';
    return this.writeState(tx, userId, row, event, {
      stripeSubscriptionId: subscriptionId ?? row?.stripeSubscriptionId ?? null,
      stripeCustomerId: customerId ?? null,
      tier,
      status: 'active',
      lastEventAt: at,
    });
  }

  private async subscriptionUpdated(tx: Tx, sub: Obj, at: Date, event: VerifiedEvent): Promise<string> {
    const found = await this.findSubscriber(tx, sub);
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
    return this.writeState(tx, userId, row, event, {
      stripeSubscriptionId: idOf(sub.id) ?? null,
      stripeCustomerId: idOf(sub.customer) ?? null,
      tier: tier ?? row!.tier,
      status: str(sub.status) ?? row?.status ?? 'active',
      currentPeriodEnd: Number.isFinite(periodEnd) && periodEnd > 0 ? new Date(periodEnd * 1000) : null,
      cancelAtPeriodEnd: sub.cancel_at_period_end === true,
      seats:
        typeof item.quantity === 'number' && Number.isInteger(item.quantity) && item.quantity > 0
          ? item.quantity
          : 1,
      lastEventAt: at,
    });
  }

  private async subscriptionDeleted(tx: Tx, sub: Obj, at: Date, event: VerifiedEvent): Promise<string> {
    const found = await this.findSubscriber(tx, sub);
    if (!found?.row) return 'ignored: no matching subscription';
    if (isStale(found.row, at)) return STALE;
    return this.writeState(tx, found.userId, found.row, event, {
      status: 'canceled',
      cancelAtPeriodEnd: false,
      lastEventAt: at,
    });
  }

  private async paymentFailed(tx: Tx, invoice: Obj, at: Date, event: VerifiedEvent): Promise<string> {
    const subscriptionId =
      idOf(invoice.subscription) ?? idOf(obj(obj(invoice.parent).subscription_details).subscription);
    if (!subscriptionId) return 'ignored: invoice without subscription';
    const row = await this.billing.lockByStripeId(tx, subscriptionId);
    if (!row) return 'ignored: no matching subscription';
    if (isStale(row, at)) return STALE;
    if (row.status === 'canceled') return 'ignored: subscription already canceled';
    // Paid features stay until the paid period ends (effectiveTier), then the tier lapses.
    return this.writeState(tx, row.userId, row, event, { status: 'past_due', lastEventAt: at });
  }

  /** Upserts the user's subscription row and audits a change of effective tier. */
  private async writeState(
    tx: Tx,
    userId: string,
    row: Subscription | null | undefined,
    event: VerifiedEvent,
    fields: SubscriptionFields,
  ): Promise<string> {
    const before = await this.accounts.effectiveTierOf(userId, tx);
    if (row) await this.billing.updateSubscription(tx, row.id, fields);
    else await this.billing.insertSubscription(tx, userId, fields);
    const after = await this.accounts.effectiveTierOf(userId, tx);
    await this.accounts.recordTierChange(
      {
        userId,
        from: before,
        to: after,
        reason: `stripe ${event.type}`,
        data: { stripe_event_id: event.id },
      },
      tx,
    );
    return `applied (${fields.status ?? row?.status}, tier ${before} -> ${after})`;
  }

  /** The user a subscription belongs to: its metadata, its customer, or an existing row. */
  private async findSubscriber(
    tx: Tx,
    sub: Obj,
  ): Promise<{ userId: string; row: Subscription | null } | undefined> {
    const subscriptionId = idOf(sub.id);
    if (subscriptionId) {
      const row = await this.billing.lockByStripeId(tx, subscriptionId);
      if (row) return { userId: row.userId, row };
    }
    let userId = str(obj(sub.metadata).user_id);
    if (userId && !(await this.userExists(tx, userId))) userId = undefined;
    const customerId = idOf(sub.customer);
    if (!userId && customerId)
      userId = (await this.accounts.userOfStripeCustomer(customerId, tx)) ?? undefined;
    if (!userId) return undefined;
    return { userId, row: await this.billing.lockByUser(tx, userId) };
  }

  private async userExists(tx: Tx, userId: string): Promise<boolean> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(userId)) return false;
    return this.accounts.exists(userId, tx);
  }

  private tierForPrice(priceId: string): string | undefined {
    const prices = this.config.stripe.prices;
    return (Object.keys(prices) as Array<keyof typeof prices>).find((t) => prices[t] === priceId);
  }
}
