import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { ErrorResponseDto } from '../../../common/dto/error-response.dto.js';
import type { DeveloperAccount } from '../entities/developer-account.entity.js';
import { PERIOD_PATTERN } from '../revenue-split.js';

export const PAYOUT_SKIP_REASONS = [
  'no_connected_account',
  'payouts_not_enabled',
  'already_paid',
  'nothing_due',
] as const;

/** Why a developer's payout failed in a run (the others are paid regardless); the next run tries again. */
export const PAYOUT_FAILURE_REASONS = [
  'provider_error',
  'mixed_currencies',
  'unmatched_refund',
  'internal_error',
] as const;

/** 402 on installing a paid plugin not bought yet: where to pay. */
export class PaymentRequiredErrorDto extends ErrorResponseDto {
  @ApiProperty({
    description:
      'Stripe Checkout for the plugin (payment_required only): open it in a browser; once paid, install again',
    example: 'https://checkout.stripe.com/c/pay/cs_test_…',
  })
  checkout_url!: string;
}

export class OnboardingLinkDto {
  @ApiProperty({
    description: "Stripe's onboarding for your connected account: open it in a browser (single use, expires)",
  })
  onboarding_url!: string;
}

export class DeveloperStatusDto {
  @ApiProperty({
    description: 'Whether a Stripe connected account exists for you (POST /plugins/developer/connect)',
  })
  connected!: boolean;
  @ApiProperty({ type: String, nullable: true, example: 'acct_1Nv0FGQ9RKHgCVdK' })
  stripe_account_id!: string | null;
  @ApiProperty({ description: 'Stripe allows payouts to the account: your share is transferred monthly' })
  payouts_enabled!: boolean;
  @ApiProperty({ description: 'You finished Stripe’s onboarding form' })
  details_submitted!: boolean;
}

export class EarningsQueryDto {
  @ApiPropertyOptional({ example: '2026-05', description: 'A UTC month, YYYY-MM; default the current one' })
  @IsOptional()
  @Matches(PERIOD_PATTERN, { message: 'period must be a month, YYYY-MM (years 0001–9999)' })
  period?: string;
}

export class EarningsDto {
  @ApiProperty({ example: '2026-05' }) period!: string;
  @ApiProperty({ description: 'Sales of your plugins in the period, net of refunds, EUR cents' })
  gross_cents!: number;
  @ApiProperty({ description: 'Your 70 % of them (floor per sale), net of refunds' })
  developer_share_cents!: number;
  @ApiProperty({ description: 'The part of your share already transferred (or netted) by a payout' })
  paid_out_cents!: number;
  @ApiProperty({ description: 'developer_share_cents − paid_out_cents: what the next payout covers' })
  pending_cents!: number;
  @ApiProperty({ description: 'How many sales the period had (refunds do not reduce it)' })
  sales!: number;
}

export class RunPayoutsDto {
  @ApiProperty({ example: '2026-05', description: 'Pays every unpaid share of this UTC month and earlier' })
  @Matches(PERIOD_PATTERN, { message: 'period must be a month, YYYY-MM (years 0001–9999)' })
  period!: string;
}

export class PayoutResultDto {
  @ApiProperty({ format: 'uuid' }) developer_id!: string;
  @ApiProperty({ description: 'Net share settled, cents: negative when refunds were taken back' })
  amount_cents!: number;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The Stripe transfer of a positive net' })
  transfer_id!: string | null;
  @ApiProperty({ type: [String], description: 'Stripe transfer reversals of a negative net' })
  reversal_ids!: string[];
  @ApiProperty({ description: 'Ledger rows the settlement covers' }) events!: number;
  @ApiProperty({
    example: '2026-05',
    description: 'The period the payout was made for (an earlier one when finished late)',
  })
  period!: string;
}

export class PayoutSkipDto {
  @ApiProperty({ format: 'uuid' }) developer_id!: string;
  @ApiProperty({ enum: PAYOUT_SKIP_REASONS }) reason!: (typeof PAYOUT_SKIP_REASONS)[number];
  @ApiPropertyOptional({ description: 'Stripe’s message, for provider_error' }) detail?: string;
}

export class PayoutFailureDto {
  @ApiProperty({ format: 'uuid' }) developer_id!: string;
  @ApiProperty({ enum: PAYOUT_FAILURE_REASONS }) reason!: (typeof PAYOUT_FAILURE_REASONS)[number];
  @ApiProperty({ description: 'What went wrong (Stripe’s message for provider_error)' }) detail!: string;
}

export class PayoutReportDto {
  @ApiProperty({ example: '2026-05' }) period!: string;
  @ApiProperty({
    type: [PayoutResultDto],
    description:
      'Payouts settled by this run, including ones an earlier run left unfinished (finished, never repeated)',
  })
  paid!: PayoutResultDto[];
  @ApiProperty({
    type: [PayoutSkipDto],
    description: 'Developers with unpaid shares left for a later run, and why',
  })
  skipped!: PayoutSkipDto[];
  @ApiProperty({
    type: [PayoutFailureDto],
    description:
      'Developers whose payout failed in this run (each developer is paid independently); a payout committed ' +
      'before its failure is finished by the next run with the same idempotency key, never paid twice',
  })
  failed!: PayoutFailureDto[];
}

export function mapDeveloperStatus(account: DeveloperAccount | null): DeveloperStatusDto {
  return {
    connected: !!account,
    stripe_account_id: account?.stripeAccountId ?? null,
    payouts_enabled: account?.payoutsEnabled ?? false,
    details_submitted: account?.detailsSubmitted ?? false,
  };
}
