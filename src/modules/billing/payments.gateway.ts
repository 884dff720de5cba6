import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import Stripe from 'stripe';
import { AppConfig } from '../../config/app-config.js';
import { BillingException } from './billing.errors.js';

/** A failure reported by the payment provider (its API answered with an error, or not at all). */
export class PaymentProviderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PaymentProviderError';
  }
}

export interface VerifiedEvent {
  id: string;
  type: string;
  created: number;
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

/** The payment provider behind a port (Stripe in production; tests run Stripe's real library against a local server). */
export abstract class PaymentsGateway {
  abstract get configured(): boolean;
  abstract createCustomer(userId: string, email: string): Promise<string>;
  abstract createCheckoutSession(input: CheckoutSessionInput): Promise<string>;
  abstract cancelSubscription(subscriptionId: string): Promise<void>;
  /** Throws on a bad or stale signature. */
  abstract verifyWebhook(rawBody: Buffer, signature: string): VerifiedEvent;
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
    this.stripe = new Stripe(secretKey, {
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

  verifyWebhook(rawBody: Buffer, signature: string): VerifiedEvent {
    const secret = this.config.stripe.webhookSecret;
    if (!this.stripe || !secret) throw new BillingException('feature_not_configured', BILLING_NOT_CONFIGURED);
    const event = this.stripe.webhooks.constructEvent(rawBody, signature, secret, 300);
    return {
      id: event.id,
      type: event.type,
      created: event.created,
      data: event.data as unknown as { object: Record<string, unknown> },
      raw: event as unknown as Record<string, unknown>,
    };
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ServiceUnavailableException) throw err;
      const stripeError = err as { message?: string; type?: string };
      throw new PaymentProviderError(`Stripe: ${stripeError.message ?? 'request failed'}`, { cause: err });
    }
  }
}
