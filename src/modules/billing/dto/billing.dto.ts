import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { TIERS, type Tier } from '../../../common/tiers/tiers.js';
import type { Subscription } from '../entities/subscription.entity.js';
import { ToInteger } from '../../../common/decorators/validation.decorators.js';

export const PAID_TIERS = ['pro', 'power', 'team'] as const;
export type PaidTier = (typeof PAID_TIERS)[number];

export class CheckoutDto {
  @ApiProperty({ enum: PAID_TIERS })
  @IsIn(PAID_TIERS, { message: `tier must be one of ${PAID_TIERS.join(', ')}` })
  tier!: PaidTier;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 1, description: 'Team only: seats billed' })
  @IsOptional()
  @ValidateIf((o: CheckoutDto) => o.seats !== undefined)
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(1000)
  seats?: number;

  @ApiPropertyOptional({
    maxLength: 2048,
    description:
      'Where Stripe sends the user after paying; its origin must be one of CORS_ORIGINS. ' +
      '{CHECKOUT_SESSION_ID} is replaced by Stripe. Default: the CHECKOUT_SUCCESS_URL setting.',
    example: 'https://app.example.com/billing/success?session_id={CHECKOUT_SESSION_ID}',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  success_url?: string;

  @ApiPropertyOptional({
    maxLength: 2048,
    description:
      'Where Stripe sends the user who cancels; its origin must be one of CORS_ORIGINS. ' +
      'Default: the CHECKOUT_CANCEL_URL setting.',
    example: 'https://app.example.com/billing/cancelled',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  cancel_url?: string;
}

export class CheckoutResponseDto {
  @ApiProperty({ example: 'https://checkout.stripe.com/c/pay/cs_test_…' })
  checkout_url!: string;
}

export class TierFeaturesDto {
  @ApiProperty({ description: '-1 = unlimited' }) agents!: number;
  @ApiProperty({ description: '-1 = unlimited' }) batch_active!: number;
  @ApiProperty({ description: '-1 = unlimited' }) cloud_storage_gb!: number;
  @ApiProperty({ description: '-1 = unlimited' }) backup_gb!: number;
  @ApiProperty({ description: '-1 = unlimited' }) providers!: number;
  @ApiProperty() batch_builder!: boolean;
  @ApiProperty() plugin_marketplace!: boolean;
  @ApiProperty() sso!: boolean;
}

export class TierInfoDto {
  @ApiProperty({ enum: TIERS }) tier!: Tier;
  @ApiProperty({ example: 1500, description: 'Monthly price in EUR cents' }) price_eur_cents!: number;
  @ApiProperty({ description: 'Priced per seat (team)' }) per_seat!: boolean;
  @ApiProperty({ example: 60 }) rate_limit_per_minute!: number;
  @ApiProperty({ type: TierFeaturesDto }) features!: TierFeaturesDto;
}

export class TierListDto {
  @ApiProperty({ type: [TierInfoDto] }) tiers!: TierInfoDto[];
}

export class SubscriptionDto {
  @ApiProperty({ enum: TIERS, description: 'Effective tier now' }) tier!: Tier;
  @ApiProperty({ example: 'active', description: 'Stripe status, or none' }) status!: string;
  @ApiProperty({ nullable: true, type: Number, example: 1767225600000 }) current_period_end!: number | null;
  @ApiProperty() cancel_at_period_end!: boolean;
  @ApiProperty({ nullable: true, type: Number }) seats!: number | null;
}

/** DELETE /billing/subscription: `ok` plus the subscription as it is after the cancellation. */
export class CanceledSubscriptionDto extends SubscriptionDto {
  @ApiProperty({ enum: [true] }) ok!: true;
}

export class WebhookAckDto {
  @ApiProperty({ enum: [true] }) ok!: true;
  @ApiPropertyOptional({ description: 'The event id was processed before; nothing changed' })
  duplicate?: boolean;
}

/** The caller's subscription as the API shows it; `tier` is the effective tier, which an admin override may set. */
export function mapSubscription(tier: Tier, subscription: Subscription | null): SubscriptionDto {
  return {
    tier,
    status: subscription?.status ?? 'none',
    current_period_end: subscription?.currentPeriodEnd ? subscription.currentPeriodEnd.getTime() : null,
    cancel_at_period_end: subscription?.cancelAtPeriodEnd ?? false,
    seats: subscription ? subscription.seats : null,
  };
}
