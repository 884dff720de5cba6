import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { AppConfig } from '../../config/app-config.js';
import { type Tx, UnitOfWork } from '../../database/unit-of-work.js';
import { AccountsService } from '../auth/index.js';
import {
  PaymentProviderError,
  PaymentsGateway,
  StripeEventHandlers,
  type StripeEventOutcome,
  type VerifiedEvent,
} from '../billing/index.js';
import type { PluginDuplicatePayment } from './entities/duplicate-payment.entity.js';
import { PluginSalesException } from './plugin-sales.errors.js';
import { periodOf, splitRefund, splitSale } from './revenue-split.js';
import type { PurchaseStatus } from './entities/plugin-purchase.entity.js';
import { PluginSalesRepository, type SaleInput } from './plugin-sales.repository.js';

/** `metadata.kind` of Stripe objects made for a plugin purchase (billing routes their webhooks here). */
export const PLUGIN_PURCHASE = 'plugin_purchase';

type Obj = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});
const idOf = (v: unknown): string | undefined => str(v) ?? str(obj(v).id);

export const PAYMENTS_NOT_CONFIGURED =
  'Paid plugins need Stripe: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (see README "Selling plugins").';

/** The plugin being bought, as the catalog shows it (its live price and its author, who is paid). */
export interface PluginForSale {
  id: string;
  name: string;
  price_cents: number;
  currency: string;
  author_id: string;
}

/** What a payment that succeeded did: bought the plugin, nothing (known already), or paid twice. */
type PaymentApplied =
  | { kind: 'purchased'; detail: string }
  | { kind: 'known'; detail: string }
  | { kind: 'duplicate'; duplicate: PluginDuplicatePayment };

/**
 * Buying paid plugins: the first install charges the user's saved card
 * off-session, or answers 402 with a Checkout link whose webhook records the
 * purchase. A delayed payment (a bank debit: `processing`) makes a pending
 * purchase that payment_intent.succeeded completes and
 * payment_intent.payment_failed cancels; installing meanwhile charges nothing.
 * A payment for a plugin the buyer already owns is refunded in full, once.
 * Each purchase writes its sale to the ledger; a refund writes a negative row
 * and ends the buyer's download.
 */
@Injectable()
export class PurchasesService implements OnModuleInit {
  private readonly logger = new Logger('PluginSales');

  constructor(
    private readonly sales: PluginSalesRepository,
    private readonly gateway: PaymentsGateway,
    private readonly accounts: AccountsService,
    private readonly handlers: StripeEventHandlers,
    private readonly config: AppConfig,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  onModuleInit(): void {
    this.handlers.register(
      'checkout.session.completed',
      (m, e) => this.checkoutCompleted(m, e),
      PLUGIN_PURCHASE,
    );
    this.handlers.register(
      'payment_intent.succeeded',
      (m, e) => this.paymentIntentSucceeded(m, e),
      PLUGIN_PURCHASE,
    );
    this.handlers.register(
      'payment_intent.payment_failed',
      (m, e) => this.paymentIntentFailed(m, e),
      PLUGIN_PURCHASE,
    );
    this.handlers.register('charge.refunded', (m, e) => this.chargeRefunded(m, e));
  }

  /**
   * Resolves once the user owns the paid plugin, charging the saved card when
   * there is one; otherwise 402 payment_required with a `checkout_url`. A
   * purchase is kept across uninstalls, so this charges once per user and plugin.
   */
  async ensurePurchased(user: AuthUser, plugin: PluginForSale): Promise<void> {
    const purchase = await this.sales.purchaseOf(user.id, plugin.id);
    if (purchase?.status === 'paid') return;
    if (purchase?.status === 'pending') throw this.pending(plugin);
    if (!this.gateway.configured)
      throw new PluginSalesException('feature_not_configured', PAYMENTS_NOT_CONFIGURED);
    // Derived from user and plugin, so concurrent installs (and retries after a lost answer) charge once.
    const key = `${user.id}:${plugin.id}:${plugin.price_cents}${purchase ? `:after:${purchase.paymentId}` : ''}`;
    const checkoutUrl = await this.provider(async () => {
      const customerId = await this.customerFor(user);
      if (await this.chargedSavedCard(user, plugin, customerId, key)) return undefined;
      return this.checkoutUrl(user, plugin, customerId, key);
    });
    if (checkoutUrl === undefined) return;
    throw new PluginSalesException(
      'payment_required',
      `${plugin.id} costs ${plugin.price_cents} ${plugin.currency} cents: pay at checkout_url, then install again`,
      { checkout_url: checkoutUrl },
    );
  }

  /**
   * Of `pluginIds`, those the user has a purchase of that is not paid (refunded,
   * or bought again and still pending or failed): their downloads are refused.
   */
  async unpaidOf(userId: string, pluginIds: string[]): Promise<Set<string>> {
    if (pluginIds.length === 0) return new Set();
    return new Set(await this.sales.unpaidPurchases(userId, pluginIds));
  }

  /** Whether the account's default card paid (and the purchase is recorded); false when the user must act. */
  private async chargedSavedCard(
    user: AuthUser,
    plugin: PluginForSale,
    customerId: string,
    key: string,
  ): Promise<boolean> {
    const paymentMethodId = await this.gateway.defaultPaymentMethodOf(customerId);
    if (!paymentMethodId) return false;
    const charge = await this.gateway.chargeOffSession({
      customerId,
      paymentMethodId,
      amountCents: plugin.price_cents,
      currency: plugin.currency.toLowerCase(),
      description: `Adiuva plugin ${plugin.id}`,
      metadata: this.metadata(user, plugin),
      idempotencyKey: `plugin-purchase:${key}`,
    });
    if (charge.status === 'needs_user') {
      this.logger.log(`Plugin ${plugin.id}: off-session charge needs the user (${charge.reason})`);
      return false;
    }
    const sale: SaleInput = {
      userId: user.id,
      pluginId: plugin.id,
      developerId: plugin.author_id,
      paymentId: charge.paymentIntentId,
      amountCents: charge.amountCents,
      currency: charge.currency.toUpperCase(),
      period: periodOf(new Date()),
    };
    if (charge.status === 'processing') {
      // The money is on its way: the purchase waits for Stripe's verdict instead of a second payment.
      const status = await this.unitOfWork.run((tx) => this.recordPending(tx, sale));
      if (status === 'paid') return true;
      throw this.pending(plugin);
    }
    const applied = await this.unitOfWork.run((tx) => this.applyPayment(tx, sale));
    if (applied.kind === 'duplicate') await this.refundDuplicate(applied.duplicate)();
    return true;
  }

  private pending(plugin: PluginForSale): PluginSalesException {
    return new PluginSalesException(
      'payment_pending',
      `Your payment for ${plugin.id} is processing (bank payments take a few days); install again once it ` +
        'has cleared. You will not be charged again.',
    );
  }

  /**
   * A payment that is processing: the purchase is pending on it, unless the
   * user owns the plugin already (this payment is then refunded if it clears)
   * or it cleared meanwhile. Answers the purchase's status.
   */
  private async recordPending(tx: Tx, sale: SaleInput): Promise<PurchaseStatus> {
    const { created, purchase } = await this.sales.lockOrCreatePurchase(tx, sale, 'pending');
    if (created || purchase.paymentId === sale.paymentId) return purchase.status;
    if (purchase.status === 'paid' || purchase.status === 'pending') return purchase.status;
    // Refunded or canceled: bought again with this payment.
    await this.sales.setPurchasePayment(tx, purchase.id, sale, 'pending');
    return 'pending';
  }

  /**
   * A payment for the plugin succeeded: the purchase is paid by it and its sale
   * written to the ledger, once; or, when the user owns the plugin by another
   * payment, it is a duplicate, recorded for a refund.
   */
  private async applyPayment(tx: Tx, sale: SaleInput): Promise<PaymentApplied> {
    const duplicate = await this.sales.duplicatePaymentOf(tx, sale.paymentId);
    if (duplicate) return { kind: 'duplicate', duplicate };
    const { created, purchase } = await this.sales.lockOrCreatePurchase(tx, sale, 'paid');
    if (!created) {
      if (
        purchase.paymentId === sale.paymentId &&
        (purchase.status === 'paid' || purchase.status === 'refunded')
      )
        return { kind: 'known', detail: `${sale.paymentId} recorded already` };
      if (purchase.paymentId !== sale.paymentId && purchase.status === 'paid')
        return {
          kind: 'duplicate',
          duplicate: await this.sales.recordDuplicatePayment(tx, sale, purchase.paymentId),
        };
      // Its own pending payment cleared; or it replaces a pending other one (which, if it clears too,
      // is then a duplicate), a refunded or a canceled purchase.
      await this.sales.setPurchasePayment(tx, purchase.id, sale, 'paid');
    }
    await this.insertSale(tx, sale);
    return { kind: 'purchased', detail: `plugin ${sale.pluginId} purchased (${sale.paymentId})` };
  }

  /**
   * Refunds a duplicate payment in full, outside any transaction, once: the
   * idempotency key and the refund's metadata derive from the payment, so a
   * retry (a redelivered event, a second event of the same payment) finds the
   * refund made instead of making another.
   */
  private refundDuplicate(duplicate: PluginDuplicatePayment): () => Promise<string> {
    return async () => {
      const refundId = await this.provider(() =>
        this.gateway.refundPayment({
          paymentIntentId: duplicate.paymentId,
          reason: 'duplicate',
          metadata: {
            kind: PLUGIN_PURCHASE,
            plugin_id: duplicate.pluginId,
            owned_by: duplicate.ownedByPaymentId,
          },
          idempotencyKey: `plugin-duplicate-refund:${duplicate.paymentId}`,
        }),
      );
      await this.sales.markDuplicateRefunded(duplicate.paymentId, refundId);
      this.logger.log(
        `Plugin ${duplicate.pluginId}: duplicate payment ${duplicate.paymentId} refunded (${refundId})`,
      );
      return `duplicate payment ${duplicate.paymentId} refunded (${refundId})`;
    };
  }

  /** The webhook's answer for a payment applied: a duplicate's refund runs after the commit. */
  private outcomeOf(applied: PaymentApplied): StripeEventOutcome {
    if (applied.kind !== 'duplicate') return applied.detail;
    const { duplicate } = applied;
    if (duplicate.status === 'refunded')
      return `ignored: duplicate payment ${duplicate.paymentId} refunded already`;
    return {
      outcome: `${duplicate.buyerId} owns ${duplicate.pluginId} by ${duplicate.ownedByPaymentId}: ${duplicate.paymentId} is a duplicate`,
      followUp: this.refundDuplicate(duplicate),
    };
  }

  private checkoutUrl(
    user: AuthUser,
    plugin: PluginForSale,
    customerId: string,
    key: string,
  ): Promise<string> {
    return this.gateway.createPaymentCheckout({
      customerId,
      userId: user.id,
      productName: `${plugin.name} (Adiuva plugin)`,
      amountCents: plugin.price_cents,
      currency: plugin.currency.toLowerCase(),
      metadata: this.metadata(user, plugin),
      successUrl: this.config.stripe.successUrl,
      cancelUrl: this.config.stripe.cancelUrl,
      // One open session per purchase: opening the link twice cannot pay twice.
      idempotencyKey: `plugin-checkout:${key}`,
    });
  }

  private metadata(user: AuthUser, plugin: PluginForSale): Record<string, string> {
    return { kind: PLUGIN_PURCHASE, user_id: user.id, plugin_id: plugin.id, developer_id: plugin.author_id };
  }

  /** The sale in the ledger, once per payment. */
  private async insertSale(tx: Tx, sale: SaleInput): Promise<void> {
    await this.sales.insertRevenue(tx, {
      ref: sale.paymentId,
      kind: 'sale',
      pluginId: sale.pluginId,
      developerId: sale.developerId,
      buyerId: sale.userId,
      paymentId: sale.paymentId,
      currency: sale.currency,
      period: sale.period,
      ...splitSale(sale.amountCents),
    });
  }

  /** The sale a Stripe object of a plugin purchase describes, or why it does not. */
  private async saleOf(
    tx: Tx,
    event: VerifiedEvent,
    o: { metadata: unknown; paymentId: string | undefined; amount: unknown; currency: unknown },
  ): Promise<SaleInput | string> {
    const metadata = obj(o.metadata);
    const userId = str(metadata.user_id);
    const pluginId = str(metadata.plugin_id);
    const developerId = str(metadata.developer_id);
    const amount = Number(o.amount);
    if (!userId || !pluginId || !developerId || !o.paymentId || !Number.isSafeInteger(amount) || amount <= 0)
      return 'ignored: not a complete plugin purchase';
    if (!(await this.accounts.exists(userId, tx))) return 'ignored: no matching user';
    return {
      userId,
      pluginId,
      developerId,
      paymentId: o.paymentId,
      amountCents: amount,
      currency: (str(o.currency) ?? 'eur').toUpperCase(),
      period: periodOf(new Date(event.created * 1000)),
    };
  }

  /**
   * checkout.session.completed of a plugin purchase: paid, it records the
   * purchase (the next install then succeeds); unpaid (a delayed method), the
   * purchase is pending until payment_intent.succeeded.
   */
  private async checkoutCompleted(tx: Tx, event: VerifiedEvent): Promise<StripeEventOutcome> {
    const session = event.data.object;
    const sale = await this.saleOf(tx, event, {
      metadata: session.metadata,
      paymentId: idOf(session.payment_intent),
      amount: session.amount_total,
      currency: session.currency,
    });
    if (typeof sale === 'string') return sale;
    if (session.payment_status === 'unpaid') {
      const status = await this.recordPending(tx, sale);
      return `plugin ${sale.pluginId}: payment ${sale.paymentId} processing (purchase ${status})`;
    }
    if (session.payment_status !== 'paid') return `ignored: payment_status ${String(session.payment_status)}`;
    return this.outcomeOf(await this.applyPayment(tx, sale));
  }

  /** payment_intent.succeeded of a plugin purchase: a processing payment cleared (or any other that paid). */
  private async paymentIntentSucceeded(tx: Tx, event: VerifiedEvent): Promise<StripeEventOutcome> {
    const intent = event.data.object;
    const sale = await this.saleOf(tx, event, {
      metadata: intent.metadata,
      paymentId: str(intent.id),
      amount: intent.amount_received ?? intent.amount,
      currency: intent.currency,
    });
    if (typeof sale === 'string') return sale;
    return this.outcomeOf(await this.applyPayment(tx, sale));
  }

  /** payment_intent.payment_failed of a plugin purchase: a pending purchase on it is canceled. */
  private async paymentIntentFailed(tx: Tx, event: VerifiedEvent): Promise<string> {
    const paymentId = str(event.data.object.id);
    if (!paymentId) return 'ignored: no payment';
    return (await this.sales.cancelPendingPurchase(tx, paymentId))
      ? `pending purchase on ${paymentId} canceled`
      : 'ignored: no pending purchase on it';
  }

  /** charge.refunded: a negative ledger row for what was refunded since the last one; a full refund ends the purchase. */
  private async chargeRefunded(tx: Tx, event: VerifiedEvent): Promise<string> {
    const charge = event.data.object;
    const paymentId = idOf(charge.payment_intent);
    const refunded = Number(charge.amount_refunded);
    if (!paymentId || !Number.isSafeInteger(refunded)) return 'ignored: no payment or amount';
    const sale = await this.sales.lockSale(tx, paymentId);
    if (!sale && (await this.sales.duplicatePaymentOf(tx, paymentId)))
      return 'ignored: refund of a duplicate payment (recorded with it)';
    if (!sale) return this.refundOfUnknownPayment(paymentId);
    const before = await this.sales.refundedOf(tx, paymentId);
    const after = Math.min(refunded, sale.amount_cents);
    if (charge.refunded === true && after === sale.amount_cents) await this.sales.markRefunded(tx, paymentId);
    if (after <= before) return 'ignored: refund already recorded';
    await this.sales.insertRevenue(tx, {
      ref: `refund:${idOf(charge.id) ?? paymentId}:${after}`,
      kind: 'refund',
      pluginId: sale.plugin_id,
      developerId: sale.developer_id,
      buyerId: sale.buyer_id,
      paymentId,
      currency: (str(charge.currency) ?? 'eur').toUpperCase(),
      period: periodOf(new Date(event.created * 1000)),
      ...splitRefund(before, after),
    });
    return `refund of ${after - before} cents recorded (${paymentId})`;
  }

  /**
   * A refund whose sale is not in the ledger: someone else's payment (a
   * subscription), or a plugin purchase whose checkout event has not arrived
   * yet. The second must not be lost: failing leaves the event for Stripe's retry.
   */
  private async refundOfUnknownPayment(paymentId: string): Promise<string> {
    const metadata = await this.gateway.paymentMetadataOf(paymentId);
    if (metadata.kind !== PLUGIN_PURCHASE) return 'ignored: not a plugin sale';
    throw new PluginSalesException(
      'service_unavailable',
      `the plugin sale ${paymentId} is not recorded yet; this refund is applied when Stripe sends it again`,
    );
  }

  /** The user's Stripe customer, created once (idempotently at Stripe) and kept on the account. */
  private async customerFor(user: AuthUser): Promise<string> {
    const known = await this.accounts.stripeCustomerIdOf(user.id);
    if (known) return known;
    const created = await this.gateway.createCustomer(user.id, user.email);
    await this.accounts.keepStripeCustomerId(user.id, created);
    return (await this.accounts.stripeCustomerIdOf(user.id))!;
  }

  private async provider<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof PaymentProviderError)) throw err;
      throw new PluginSalesException(
        'provider_unavailable',
        `Payment provider error: ${err.message}. Nothing was charged; try again later.`,
      );
    }
  }
}
