import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import type { Tx } from '../../database/unit-of-work.js';
import { BillingException } from './billing.errors.js';
import { BillingRepository } from './billing.repository.js';
import { BILLING_NOT_CONFIGURED, PaymentProviderError, PaymentsGateway } from './payments.gateway.js';

/** A Team subscription's seats, as the webhooks (and the last seat change) left them. */
export interface TeamSeats {
  seats: number;
  /** Stripe's status: active, trialing, past_due, canceled… */
  status: string;
  stripeSubscriptionId: string | null;
}

/**
 * The seats of Team subscriptions, for the teams module: how many an account's
 * subscription pays for, and changing that quantity at Stripe. Billing keeps
 * the count (the `customer.subscription.*` webhooks write it); teams decide
 * who takes a seat.
 */
@Injectable()
export class TeamSeatsService {
  constructor(
    private readonly billing: BillingRepository,
    private readonly gateway: PaymentsGateway,
    private readonly config: AppConfig,
  ) {}

  /** The account's Team subscription, or null when it has none (a Team tier granted by an admin or DEFAULT_TIER). */
  async seatsOf(userId: string, tx?: Tx): Promise<TeamSeats | null> {
    const subscription = await this.billing.subscriptionOfUser(userId, tx);
    if (!subscription || subscription.tier !== 'team') return null;
    return {
      seats: subscription.seats,
      status: subscription.status,
      stripeSubscriptionId: subscription.stripeSubscriptionId,
    };
  }

  /**
   * Sets the quantity of the account's Team subscription at Stripe (prorated)
   * and records what Stripe answered; answers the new seat count. 402 when the
   * account has no live Team subscription to change.
   */
  async changeSeats(userId: string, seats: number, tx?: Tx): Promise<number> {
    if (!this.gateway.configured)
      throw new BillingException('feature_not_configured', BILLING_NOT_CONFIGURED);
    const subscription = await this.billing.subscriptionOfUser(userId, tx);
    if (
      !subscription?.stripeSubscriptionId ||
      subscription.tier !== 'team' ||
      subscription.status === 'canceled'
    )
      throw new BillingException(
        'payment_required',
        'This team has no live Team subscription whose seats could change: subscribe with ' +
          'POST /api/v1/billing/checkout {tier: "team", seats}',
      );
    const stripeSubscriptionId = subscription.stripeSubscriptionId;
    let quantity: number;
    try {
      quantity = await this.gateway.updateSubscriptionSeats(
        stripeSubscriptionId,
        this.config.stripe.prices.team,
        seats,
      );
    } catch (err) {
      if (!(err instanceof PaymentProviderError)) throw err;
      throw new BillingException(
        'provider_unavailable',
        `Payment provider error: ${err.message}. The seats did not change; try again later.`,
      );
    }
    await this.billing.setSeats(subscription.id, quantity, tx);
    return quantity;
  }
}
