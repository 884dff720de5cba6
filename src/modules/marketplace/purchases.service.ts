import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { AppConfig } from '../../config/app-config.js';
import { AccountsService } from '../auth/index.js';
import {
  PaymentProviderError,
  PaymentsGateway,
  StripeEventHandlers,
  type VerifiedEvent,
} from '../billing/index.js';
import type { CatalogRow } from './marketplace.repository.js';
import { MarketplaceException } from './marketplace.errors.js';
import { periodOf, splitRefund, splitSale } from './revenue-split.js';
import { SalesRepository, type SaleInput } from './sales.repository.js';

/** `metadata.kind` of Stripe objects made for a plugin purchase (billing routes their webhooks here). */
export const PLUGIN_PURCHASE = 'plugin_purchase';

type Obj = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});
const idOf = (v: unknown): string | undefined => str(v) ?? str(obj(v).id);

export const PAYMENTS_NOT_CONFIGURED =
  'Paid plugins need Stripe: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (see README "Selling plugins").';

/**
 * Buying paid plugins: the first install charges the user's saved card
 * off-session, or answers 402 with a Checkout link whose webhook records the
 * purchase. Each purchase writes its sale to the ledger; a refund writes a
 * negative row and ends the buyer's download.
 */
@Injectable()
export class PurchasesService implements OnModuleInit {
  private readonly logger = new Logger('Marketplace');

  constructor(
    private readonly sales: SalesRepository,
    private readonly gateway: PaymentsGateway,
    private readonly accounts: AccountsService,
    private readonly handlers: StripeEventHandlers,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.handlers.register(
      'checkout.session.completed',
      (m, e) => this.checkoutCompleted(m, e),
      PLUGIN_PURCHASE,
    );
    this.handlers.register('charge.refunded', (m, e) => this.chargeRefunded(m, e));
  }

  /**
   * Resolves once the user owns the paid plugin, charging the saved card when
   * there is one; otherwise 402 payment_required with a `checkout_url`. A
   * purchase is kept across uninstalls, so this charges once per user and plugin.
   */
  async ensurePurchased(user: AuthUser, plugin: CatalogRow): Promise<void> {
    const purchase = await this.sales.purchaseOf(user.id, plugin.id);
    if (purchase?.status === 'paid') return;
    if (!this.gateway.configured)
      throw new MarketplaceException('feature_not_configured', PAYMENTS_NOT_CONFIGURED);
    // Derived from user and plugin, so concurrent installs (and retries after a lost answer) charge once.
    const key = `${user.id}:${plugin.id}:${plugin.price_cents}${purchase ? `:after:${purchase.paymentId}` : ''}`;
    const checkoutUrl = await this.provider(async () => {
      const customerId = await this.customerFor(user);
      if (await this.chargedSavedCard(user, plugin, customerId, key)) return undefined;
      return this.checkoutUrl(user, plugin, customerId, key);
    });
    if (checkoutUrl === undefined) return;
    throw new MarketplaceException(
      'payment_required',
      `${plugin.id} costs ${plugin.price_cents} ${plugin.currency} cents: pay at checkout_url, then install again`,
      { checkout_url: checkoutUrl },
    );
  }

  /** Whether the account's default card paid (and the purchase is recorded); false when the user must act. */
  private async chargedSavedCard(
    user: AuthUser,
    plugin: CatalogRow,
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
    if (charge.status !== 'succeeded') {
      this.logger.log(`Plugin ${plugin.id}: off-session charge needs the user (${charge.reason})`);
      return false;
    }
    await this.sales.transaction((manager) =>
      this.record(manager, {
        userId: user.id,
        pluginId: plugin.id,
        developerId: plugin.author_id,
        paymentId: charge.paymentIntentId,
        amountCents: charge.amountCents,
        currency: charge.currency.toUpperCase(),
        period: periodOf(new Date()),
      }),
    );
    return true;
  }

  private checkoutUrl(user: AuthUser, plugin: CatalogRow, customerId: string, key: string): Promise<string> {
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

  private metadata(user: AuthUser, plugin: CatalogRow): Record<string, string> {
    return { kind: PLUGIN_PURCHASE, user_id: user.id, plugin_id: plugin.id, developer_id: plugin.author_id };
  }

  /** The purchase and its sale in the ledger, once (a concurrent or replayed record writes nothing). */
  private async record(manager: EntityManager, sale: SaleInput): Promise<boolean> {
    if (!(await this.sales.recordPurchase(manager, sale))) return false;
    await this.sales.insertRevenue(manager, {
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
    return true;
  }

  /** checkout.session.completed of a plugin purchase: records it (the next install then succeeds). */
  private async checkoutCompleted(manager: EntityManager, event: VerifiedEvent): Promise<string> {
    const session = event.data.object;
    const metadata = obj(session.metadata);
    const userId = str(metadata.user_id);
    const pluginId = str(metadata.plugin_id);
    const developerId = str(metadata.developer_id);
    const paymentId = idOf(session.payment_intent);
    const amount = Number(session.amount_total);
    if (session.payment_status !== 'paid') return `ignored: payment_status ${String(session.payment_status)}`;
    if (!userId || !pluginId || !developerId || !paymentId || !Number.isSafeInteger(amount) || amount <= 0)
      return 'ignored: not a complete plugin purchase';
    if (!(await this.accounts.exists(userId, manager))) return 'ignored: no matching user';
    const recorded = await this.record(manager, {
      userId,
      pluginId,
      developerId,
      paymentId,
      amountCents: amount,
      currency: (str(session.currency) ?? 'eur').toUpperCase(),
      period: periodOf(new Date(event.created * 1000)),
    });
    if (recorded) return `plugin ${pluginId} purchased (${paymentId})`;
    this.logger.warn(`Stripe ${event.id}: ${userId} already owns ${pluginId}; ${paymentId} is not recorded`);
    return `ignored: ${pluginId} already purchased`;
  }

  /** charge.refunded: a negative ledger row for what was refunded since the last one; a full refund ends the purchase. */
  private async chargeRefunded(manager: EntityManager, event: VerifiedEvent): Promise<string> {
    const charge = event.data.object;
    const paymentId = idOf(charge.payment_intent);
    const refunded = Number(charge.amount_refunded);
    if (!paymentId || !Number.isSafeInteger(refunded)) return 'ignored: no payment or amount';
    const sale = await this.sales.lockSale(manager, paymentId);
    if (!sale) return this.refundOfUnknownPayment(paymentId);
    const before = await this.sales.refundedOf(manager, paymentId);
    const after = Math.min(refunded, sale.amount_cents);
    if (charge.refunded === true && after === sale.amount_cents)
      await this.sales.markRefunded(manager, paymentId);
    if (after <= before) return 'ignored: refund already recorded';
    await this.sales.insertRevenue(manager, {
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
    throw new MarketplaceException(
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
      throw new MarketplaceException(
        'provider_unavailable',
        `Payment provider error: ${err.message}. Nothing was charged; try again later.`,
      );
    }
  }
}
