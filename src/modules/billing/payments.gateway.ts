import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { createRequire } from 'node:module';
import type Stripe from 'stripe';
import { AppConfig } from '../../config/app-config.js';
import { BillingException } from './billing.errors.js';

/** A failure reported by the payment provider (its API answered with an error, or not at all). */
export class PaymentProviderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PaymentProviderError';
  }
}

/**
 * Which webhook endpoint signed an event: the platform's (`STRIPE_WEBHOOK_SECRET`: our own account's
 * events) or the Connect endpoint's (`STRIPE_CONNECT_WEBHOOK_SECRET`: events of connected accounts).
 */
export type WebhookSource = 'platform' | 'connect';

export interface VerifiedEvent {
  id: string;
  type: string;
  created: number;
  /** The secret that verified the signature decides the source, never the payload. */
  source: WebhookSource;
  /** The connected account a Connect event happened on (`event.account`); absent on platform events. */
  account?: string;
  data: { object: Record<string, unknown> };
  raw: Record<string, unknown>;
}

export interface CheckoutSessionInput {
  customerId: string;
  userId: string;
  tier: string;
  priceId: string;
  seats: number;
  /** Where Stripe sends the user back ({CHECKOUT_SESSION_ID} filled in by Stripe). */
  successUrl: string;
  cancelUrl: string;
}

/** A one-off charge of a saved card without the user present (off-session). */
export interface OffSessionChargeInput {
  customerId: string;
  paymentMethodId: string;
  amountCents: number;
  currency: string;
  description: string;
  metadata: Record<string, string>;
  /** The same key charges once, however often the call is repeated (Stripe keeps keys 24 h). */
  idempotencyKey: string;
}

/**
 * Succeeded; processing (a delayed method such as a SEPA debit: the money is on its way and
 * payment_intent.succeeded or payment_intent.payment_failed says how it ended); or the user must act
 * (authenticate, or pay with another card). Any other failure throws.
 */
export type OffSessionCharge =
  | { status: 'succeeded' | 'processing'; paymentIntentId: string; amountCents: number; currency: string }
  | { status: 'needs_user'; reason: string };

/** A refund of a whole payment, made once: `metadata.refund_key` finds it again after Stripe forgets the key. */
export interface RefundInput {
  paymentIntentId: string;
  reason: 'duplicate' | 'requested_by_customer' | 'fraudulent';
  metadata: Record<string, string>;
  /** Also stored as `metadata.refund_key`, so a retry after Stripe's 24 h key window finds the refund made. */
  idempotencyKey: string;
}

/** A Checkout session in payment mode for one item. */
export interface PaymentCheckoutInput {
  customerId: string;
  userId: string;
  productName: string;
  amountCents: number;
  currency: string;
  metadata: Record<string, string>;
  successUrl: string;
  cancelUrl: string;
  idempotencyKey: string;
}

/** A connected account's state, as Stripe reports it. */
export interface ConnectAccountState {
  id: string;
  payoutsEnabled: boolean;
  detailsSubmitted: boolean;
}

export interface TransferInput {
  amountCents: number;
  currency: string;
  destination: string;
  /** Unique per payout: what finds the transfer again when Stripe no longer knows the idempotency key. */
  transferGroup: string;
  metadata: Record<string, string>;
  idempotencyKey: string;
}

/** A transfer as the payouts reconcile it. */
export interface TransferFound {
  id: string;
  amountCents: number;
  currency: string;
  destination: string;
  metadata: Record<string, string>;
}

/** The payment provider behind a port (Stripe in production; tests run Stripe's real library against a local server). */
export abstract class PaymentsGateway {
  abstract get configured(): boolean;
  abstract createCustomer(userId: string, email: string): Promise<string>;
  abstract createCheckoutSession(input: CheckoutSessionInput): Promise<string>;
  abstract cancelSubscription(subscriptionId: string): Promise<void>;
  /**
   * Sets the quantity (seats) of the subscription's item for `priceId`, prorated by Stripe;
   * answers the quantity Stripe now holds.
   */
  abstract updateSubscriptionSeats(subscriptionId: string, priceId: string, seats: number): Promise<number>;
  /** Whether the subscription renews at its period's end (an account pending erasure does not). */
  abstract setCancelAtPeriodEnd(subscriptionId: string, cancel: boolean): Promise<void>;
  /**
   * Deletes the customer at the provider (Stripe also cancels its subscriptions at once).
   * Idempotent: a customer already gone counts as deleted.
   */
  abstract deleteCustomer(customerId: string): Promise<void>;
  /** Throws on a bad or stale signature. */
  abstract verifyWebhook(rawBody: Buffer, signature: string): VerifiedEvent;
  /** The customer's default payment method (invoice_settings), or null. */
  abstract defaultPaymentMethodOf(customerId: string): Promise<string | null>;
  abstract chargeOffSession(input: OffSessionChargeInput): Promise<OffSessionCharge>;
  /** The metadata a PaymentIntent was created with. */
  abstract paymentMetadataOf(paymentIntentId: string): Promise<Record<string, string>>;
  abstract createPaymentCheckout(input: PaymentCheckoutInput): Promise<string>;
  /** An Express connected account for a payee; the key makes a repeated call create it once. */
  abstract createConnectedAccount(userId: string, email: string, idempotencyKey: string): Promise<string>;
  /** A single-use onboarding link for a connected account. */
  abstract createOnboardingLink(accountId: string): Promise<string>;
  abstract createTransfer(input: TransferInput): Promise<string>;
  /** The transfers made with this transfer_group (a payout's own group holds at most one). */
  abstract transfersInGroup(transferGroup: string): Promise<TransferFound[]>;
  /**
   * Reverses part of a transfer once: a reversal of this transfer whose `metadata.reversal_key` is the
   * key is answered instead of a new one (the key alone lasts Stripe's 24 h).
   */
  abstract reverseTransfer(transferId: string, amountCents: number, idempotencyKey: string): Promise<string>;
  /** Refunds a whole payment once (see RefundInput); answers the refund's id. */
  abstract refundPayment(input: RefundInput): Promise<string>;
}

export const BILLING_NOT_CONFIGURED =
  'Billing is not configured on this server: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET ' +
  '(see README "Billing"), or give every account a tier with DEFAULT_TIER (e.g. team for self-hosting).';

@Injectable()
export class StripePaymentsGateway extends PaymentsGateway {
  private readonly stripe?: Stripe;

  constructor(private readonly config: AppConfig) {
    super();
    const { secretKey, apiUrl } = config.stripe;
    if (!secretKey) return;
    const url = apiUrl ? new URL(apiUrl) : undefined;
    // Stripe's SDK (some 200 files, 1 MB of code) is loaded only when billing is configured (issue 38: an idle
    // self-hosted server without billing need not hold it); its CommonJS build, so the constructor stays synchronous.
    const StripeClient = createRequire(import.meta.url)('stripe') as typeof Stripe;
    this.stripe = new StripeClient(secretKey, {
      maxNetworkRetries: 2,
      timeout: 15_000,
      telemetry: false,
      ...(url
        ? {
            host: url.hostname,
            port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
            protocol: url.protocol === 'http:' ? 'http' : 'https',
          }
        : {}),
    });
  }

  get configured(): boolean {
    return !!this.stripe && !!this.config.stripe.webhookSecret;
  }

  private client(): Stripe {
    if (!this.stripe) throw new BillingException('feature_not_configured', BILLING_NOT_CONFIGURED);
    return this.stripe;
  }

  async createCustomer(userId: string, email: string): Promise<string> {
    const customer = await this.call(() =>
      this.client().customers.create(
        { email, metadata: { user_id: userId } },
        // Two concurrent first checkouts create one customer, not two.
        { idempotencyKey: `customer-for-user-${userId}` },
      ),
    );
    return customer.id;
  }

  async createCheckoutSession(input: CheckoutSessionInput): Promise<string> {
    const metadata = { user_id: input.userId, tier: input.tier };
    const session = await this.call(() =>
      this.client().checkout.sessions.create({
        mode: 'subscription',
        customer: input.customerId,
        client_reference_id: input.userId,
        line_items: [{ price: input.priceId, quantity: input.seats }],
        metadata,
        subscription_data: { metadata },
        success_url: input.successUrl,
        cancel_url: input.cancelUrl,
      }),
    );
    if (!session.url) throw new PaymentProviderError('Stripe returned a checkout session without a URL');
    return session.url;
  }

  async cancelSubscription(subscriptionId: string): Promise<void> {
    await this.call(() => this.client().subscriptions.cancel(subscriptionId));
  }

  async updateSubscriptionSeats(subscriptionId: string, priceId: string, seats: number): Promise<number> {
    return this.call(async () => {
      const subscription = await this.client().subscriptions.retrieve(subscriptionId);
      const item =
        subscription.items.data.find((candidate) => candidate.price.id === priceId) ??
        subscription.items.data[0];
      if (!item) throw new PaymentProviderError(`Stripe subscription ${subscriptionId} has no item`);
      const updated = await this.client().subscriptions.update(subscriptionId, {
        items: [{ id: item.id, quantity: seats }],
        // The change is charged (or credited) for the rest of the period on the next invoice.
        proration_behavior: 'create_prorations',
      });
      return updated.items.data.find((candidate) => candidate.id === item.id)?.quantity ?? seats;
    });
  }

  async setCancelAtPeriodEnd(subscriptionId: string, cancel: boolean): Promise<void> {
    await this.call(() =>
      this.client().subscriptions.update(subscriptionId, { cancel_at_period_end: cancel }),
    );
  }

  async deleteCustomer(customerId: string): Promise<void> {
    try {
      await this.client().customers.del(customerId);
    } catch (err) {
      // Deleted before (a retried erasure, or by hand in the dashboard): the goal holds.
      if ((err as { code?: string }).code === 'resource_missing') return;
      throw providerError(err);
    }
  }

  verifyWebhook(rawBody: Buffer, signature: string): VerifiedEvent {
    const { webhookSecret, connectWebhookSecret } = this.config.stripe;
    if (!this.stripe || !webhookSecret)
      throw new BillingException('feature_not_configured', BILLING_NOT_CONFIGURED);
    const { event, source } = this.constructEvent(rawBody, signature, webhookSecret, connectWebhookSecret);
    const account = (event as { account?: unknown }).account;
    return {
      id: event.id,
      type: event.type,
      created: event.created,
      source,
      ...(typeof account === 'string' && account.length > 0 ? { account } : {}),
      data: event.data as unknown as { object: Record<string, unknown> },
      raw: event as unknown as Record<string, unknown>,
    };
  }

  /**
   * The platform's endpoint and the Connect endpoint sign with different secrets; either may have sent
   * it, and the one whose secret verifies it is its source (the webhook then allows each source only
   * its own event types).
   */
  private constructEvent(
    rawBody: Buffer,
    signature: string,
    platformSecret: string,
    connectSecret: string | undefined,
  ): { event: Stripe.Event; source: 'platform' | 'connect' } {
    try {
      return {
        event: this.stripe!.webhooks.constructEvent(rawBody, signature, platformSecret, 300),
        source: 'platform',
      };
    } catch (err) {
      if (connectSecret && connectSecret !== platformSecret) {
        try {
          return {
            event: this.stripe!.webhooks.constructEvent(rawBody, signature, connectSecret, 300),
            source: 'connect',
          };
        } catch {
          // The platform secret's error is the one reported.
        }
      }
      throw err;
    }
  }

  async defaultPaymentMethodOf(customerId: string): Promise<string | null> {
    const customer = await this.call(() => this.client().customers.retrieve(customerId));
    if (customer.deleted) return null;
    const method = customer.invoice_settings?.default_payment_method;
    return (typeof method === 'string' ? method : method?.id) ?? null;
  }

  async chargeOffSession(input: OffSessionChargeInput): Promise<OffSessionCharge> {
    try {
      const intent = await this.client().paymentIntents.create(
        {
          amount: input.amountCents,
          currency: input.currency,
          customer: input.customerId,
          payment_method: input.paymentMethodId,
          confirm: true,
          off_session: true,
          description: input.description,
          metadata: input.metadata,
        },
        { idempotencyKey: input.idempotencyKey },
      );
      if (intent.status !== 'succeeded' && intent.status !== 'processing')
        return { status: 'needs_user', reason: intent.status };
      return {
        status: intent.status === 'processing' ? 'processing' : 'succeeded',
        paymentIntentId: intent.id,
        amountCents: intent.amount,
        currency: intent.currency,
      };
    } catch (err) {
      // A decline, or a card that needs its owner to authenticate: the user pays through Checkout instead.
      const stripeError = err as { type?: string; code?: string; message?: string };
      if (stripeError.type === 'StripeCardError')
        return { status: 'needs_user', reason: stripeError.code ?? 'card_error' };
      throw providerError(err);
    }
  }

  async paymentMetadataOf(paymentIntentId: string): Promise<Record<string, string>> {
    const intent = await this.call(() => this.client().paymentIntents.retrieve(paymentIntentId));
    return intent.metadata ?? {};
  }

  async createPaymentCheckout(input: PaymentCheckoutInput): Promise<string> {
    const session = await this.call(() =>
      this.client().checkout.sessions.create(
        {
          mode: 'payment',
          customer: input.customerId,
          client_reference_id: input.userId,
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: input.currency,
                unit_amount: input.amountCents,
                product_data: { name: input.productName },
              },
            },
          ],
          metadata: input.metadata,
          payment_intent_data: { metadata: input.metadata },
          success_url: input.successUrl,
          cancel_url: input.cancelUrl,
        },
        { idempotencyKey: input.idempotencyKey },
      ),
    );
    if (!session.url) throw new PaymentProviderError('Stripe returned a checkout session without a URL');
    return session.url;
  }

  async createConnectedAccount(userId: string, email: string, idempotencyKey: string): Promise<string> {
    const account = await this.call(() =>
      this.client().accounts.create(
        {
          type: 'express',
          email,
          metadata: { user_id: userId },
          capabilities: { transfers: { requested: true } },
        },
        { idempotencyKey },
      ),
    );
    return account.id;
  }

  async createOnboardingLink(accountId: string): Promise<string> {
    const link = await this.call(() =>
      this.client().accountLinks.create({
        account: accountId,
        type: 'account_onboarding',
        refresh_url: this.config.stripe.connectRefreshUrl,
        return_url: this.config.stripe.connectReturnUrl,
      }),
    );
    return link.url;
  }

  async createTransfer(input: TransferInput): Promise<string> {
    const transfer = await this.call(() =>
      this.client().transfers.create(
        {
          amount: input.amountCents,
          currency: input.currency,
          destination: input.destination,
          transfer_group: input.transferGroup,
          metadata: input.metadata,
        },
        { idempotencyKey: input.idempotencyKey },
      ),
    );
    return transfer.id;
  }

  async transfersInGroup(transferGroup: string): Promise<TransferFound[]> {
    const found: TransferFound[] = [];
    await this.call(async () => {
      for await (const transfer of this.client().transfers.list({
        transfer_group: transferGroup,
        limit: 100,
      }))
        found.push({
          id: transfer.id,
          amountCents: transfer.amount,
          currency: transfer.currency,
          destination:
            (typeof transfer.destination === 'string' ? transfer.destination : transfer.destination?.id) ??
            '',
          metadata: transfer.metadata ?? {},
        });
    });
    return found;
  }

  async reverseTransfer(transferId: string, amountCents: number, idempotencyKey: string): Promise<string> {
    return this.call(async () => {
      for await (const reversal of this.client().transfers.listReversals(transferId, { limit: 100 }))
        if (reversal.metadata?.reversal_key === idempotencyKey) return reversal.id;
      const reversal = await this.client().transfers.createReversal(
        transferId,
        { amount: amountCents, metadata: { reversal_key: idempotencyKey } },
        { idempotencyKey },
      );
      return reversal.id;
    });
  }

  async refundPayment(input: RefundInput): Promise<string> {
    return this.call(async () => {
      for await (const refund of this.client().refunds.list({
        payment_intent: input.paymentIntentId,
        limit: 100,
      }))
        if (refund.metadata?.refund_key === input.idempotencyKey && refund.status !== 'failed')
          return refund.id;
      const refund = await this.client().refunds.create(
        {
          payment_intent: input.paymentIntentId,
          reason: input.reason,
          metadata: { ...input.metadata, refund_key: input.idempotencyKey },
        },
        { idempotencyKey: input.idempotencyKey },
      );
      return refund.id;
    });
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw providerError(err);
    }
  }
}

function providerError(err: unknown): Error {
  if (err instanceof ServiceUnavailableException || err instanceof BillingException) return err;
  const stripeError = err as { message?: string; type?: string };
  return new PaymentProviderError(`Stripe: ${stripeError.message ?? 'request failed'}`, { cause: err });
}
