import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { FEATURES, RATE_LIMITS, TIERS } from '../../common/tiers/tiers.js';
import { AppConfig } from '../../config/app-config.js';
import { UnitOfWork } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import { PRICES_EUR_CENTS } from './prices.js';
import { AccountsService } from '../auth/index.js';
import { BillingRepository } from './billing.repository.js';
import {
  type CheckoutDto,
  type CheckoutResponseDto,
  mapSubscription,
  type SubscriptionDto,
  type TierListDto,
} from './dto/billing.dto.js';
import { BILLING_NOT_CONFIGURED, PaymentProviderError, PaymentsGateway } from './payments.gateway.js';
import { BillingException } from './billing.errors.js';

@Injectable()
export class BillingService {
  constructor(
    private readonly billing: BillingRepository,
    private readonly accounts: AccountsService,
    private readonly config: AppConfig,
    private readonly gateway: PaymentsGateway,
    private readonly audit: AuditService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  tiers(): TierListDto {
    return {
      tiers: TIERS.map((tier) => ({
        tier,
        price_eur_cents: PRICES_EUR_CENTS[tier],
        per_seat: tier === 'team',
        rate_limit_per_minute: RATE_LIMITS[tier],
        features: { ...FEATURES[tier] },
      })),
    };
  }

  async checkout(user: AuthUser, dto: CheckoutDto): Promise<CheckoutResponseDto> {
    this.requireConfigured();
    if (dto.tier !== 'team' && dto.seats !== undefined && dto.seats !== 1) {
      throw new BillingException('validation_failed', 'seats applies to the team tier only');
    }
    const seats = dto.tier === 'team' ? (dto.seats ?? 1) : 1;
    const successUrl = this.returnUrl('success_url', dto.success_url) ?? this.config.stripe.successUrl;
    const cancelUrl = this.returnUrl('cancel_url', dto.cancel_url) ?? this.config.stripe.cancelUrl;
    return this.provider(async () => {
      const customerId = await this.customerFor(user);
      const url = await this.gateway.createCheckoutSession({
        customerId,
        userId: user.id,
        tier: dto.tier,
        priceId: this.config.stripe.prices[dto.tier],
        seats,
        successUrl,
        cancelUrl,
      });
      return { checkout_url: url };
    });
  }

  async subscription(user: AuthUser): Promise<SubscriptionDto> {
    this.requireConfigured();
    return mapSubscription(user.tier, await this.billing.subscriptionOf(user.id));
  }

  /** Cancels at Stripe now and drops to the subscription-less tier at once (as the earlier API did, which clients rely on). */
  async cancel(user: AuthUser): Promise<SubscriptionDto> {
    this.requireConfigured();
    const current = await this.billing.subscriptionOf(user.id);
    if (!current?.stripeSubscriptionId || current.status === 'canceled') {
      throw new BillingException('not_found', 'No active subscription to cancel');
    }
    const subscriptionId = current.stripeSubscriptionId;
    await this.provider(() => this.gateway.cancelSubscription(subscriptionId));
    await this.unitOfWork.run(async (tx) => {
      await this.billing.markCanceled(tx, user.id);
      await this.audit.record(
        {
          eventType: 'billing.subscription_canceled',
          actorId: user.id,
          subjectId: user.id,
          data: { subscription: subscriptionId },
        },
        tx,
      );
    });
    const after = await this.accounts.effectiveTierOf(user.id);
    await this.accounts.recordTierChange({
      userId: user.id,
      from: user.tier,
      to: after,
      actorId: user.id,
      reason: 'subscription canceled by the user',
    });
    return { ...(await this.subscription(user)), tier: after };
  }

  /** The user's Stripe customer, created once (idempotently at Stripe) and kept on the account. */
  private async customerFor(user: AuthUser): Promise<string> {
    const known = await this.accounts.stripeCustomerIdOf(user.id);
    if (known) return known;
    const created = await this.gateway.createCustomer(user.id, user.email);
    await this.accounts.keepStripeCustomerId(user.id, created);
    return (await this.accounts.stripeCustomerIdOf(user.id))!;
  }

  /**
   * A return URL from the request, accepted only on an origin of CORS_ORIGINS:
   * anything else would let a link to our checkout send a paying user anywhere.
   */
  private returnUrl(field: string, value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    let origin: string;
    try {
      const parsed = new URL(value);
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('scheme');
      origin = parsed.origin;
    } catch {
      throw new BillingException('validation_failed', `${field} must be an http(s) URL`);
    }
    if (!this.config.corsOrigins.includes(origin)) {
      throw new BillingException(
        'validation_failed',
        `${field} must be on one of the allowed origins (CORS_ORIGINS): ${this.config.corsOrigins.join(', ')}`,
      );
    }
    return value;
  }

  private requireConfigured(): void {
    if (!this.gateway.configured)
      throw new BillingException('feature_not_configured', BILLING_NOT_CONFIGURED);
  }

  private async provider<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof PaymentProviderError) {
        throw new BillingException(
          'provider_unavailable',
          `Payment provider error: ${err.message}. Nothing was charged; try again later.`,
        );
      }
      throw err;
    }
  }
}
