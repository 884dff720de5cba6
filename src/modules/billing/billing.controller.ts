import { Body, Controller, Delete, Get, Headers, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import type { Request } from 'express';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { SkipRateLimit } from '../../common/decorators/access.decorators.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { BodyLimit } from '../../common/http/body-limit.decorator.js';
import { BillingWebhookService } from './billing-webhook.service.js';
import { BillingService } from './billing.service.js';
import {
  CanceledSubscriptionDto,
  CheckoutDto,
  CheckoutResponseDto,
  SubscriptionDto,
  TierListDto,
  WebhookAckDto,
} from './dto/billing.dto.js';

@ApiTags('billing')
@Controller('billing')
export class BillingController {
  constructor(
    private readonly billing: BillingService,
    private readonly webhooks: BillingWebhookService,
  ) {}

  @Public()
  @Get('tiers')
  @ApiOperation({
    summary: 'Tiers: features, monthly price (EUR cents; team per seat) and rate limits',
    description: 'Public. The feature matrix the server enforces; -1 means unlimited.',
  })
  @ApiOkResponse({ type: TierListDto })
  listTiers(): TierListDto {
    return this.billing.tiers();
  }

  @Post('checkout')
  @ApiOperation({
    summary: 'Start a Stripe Checkout for a paid tier; open checkout_url in a browser',
    description:
      'The tier changes when Stripe confirms the payment (through the webhook), not when this answers: poll ' +
      'GET /billing/subscription or GET /auth/me afterwards. seats applies to the team tier only.',
  })
  @ApiOkResponse({ type: CheckoutResponseDto })
  @ApiErrors(
    { status: 502, description: 'Stripe refused or did not answer' },
    { status: 503, description: 'Billing is not configured on this server (code feature_not_configured)' },
  )
  @HttpCode(200)
  createCheckout(@CurrentUser() user: AuthUser, @Body() dto: CheckoutDto): Promise<CheckoutResponseDto> {
    return this.billing.checkout(user, dto);
  }

  @Get('subscription')
  @ApiOperation({
    summary: 'The account’s subscription and effective tier',
    description: 'status is Stripe’s subscription status, or none; tier is what the account has now.',
  })
  @ApiOkResponse({ type: SubscriptionDto })
  @ApiErrors({
    status: 503,
    description: 'Billing is not configured on this server (code feature_not_configured)',
  })
  getSubscription(@CurrentUser() user: AuthUser): Promise<SubscriptionDto> {
    return this.billing.subscription(user);
  }

  @Delete('subscription')
  @ApiOperation({
    summary: 'Cancel the subscription at Stripe now; the paid tier ends at once',
    description:
      'Answers ok with the subscription as it is afterwards. Nothing changes when Stripe fails (502).',
  })
  @ApiOkResponse({ type: CanceledSubscriptionDto })
  @ApiErrors(
    { status: 404, description: 'No active subscription to cancel' },
    { status: 502, description: 'Stripe refused or did not answer; nothing changed' },
    { status: 503, description: 'Billing is not configured on this server (code feature_not_configured)' },
  )
  async cancelSubscription(@CurrentUser() user: AuthUser): Promise<CanceledSubscriptionDto> {
    return { ok: true, ...(await this.billing.cancel(user)) };
  }

  @Public()
  @SkipRateLimit()
  @Post('webhook')
  // Stripe signs the exact bytes it sends: the webhook gets them raw.
  @BodyLimit((config) => config.jsonBodyLimitBytes, 'raw')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Stripe webhook (STRIPE_WEBHOOK_SECRET, and STRIPE_CONNECT_WEBHOOK_SECRET for Connect)',
    description:
      'For Stripe only: the signature is verified on the raw body. Each event is applied once; a replay ' +
      'answers {ok: true, duplicate: true} and changes nothing. Each endpoint’s secret verifies only its own ' +
      'events: the platform’s those of our account, the Connect endpoint’s account.updated of a connected ' +
      'account of one of our developers (`account`); anything else is refused.',
  })
  @ApiHeader({ name: 'Stripe-Signature', required: true, description: 'Stripe’s signature of the raw body' })
  @ApiBody({
    description: 'The event, exactly as Stripe sent it (verified on the raw bytes)',
    schema: { type: 'object' },
  })
  @ApiOkResponse({ type: WebhookAckDto })
  @ApiErrors(
    {
      status: 400,
      description:
        'Missing or invalid Stripe-Signature, an event signed with the other endpoint’s secret, or an empty body',
    },
    {
      status: 404,
      description: 'A Connect event of an account that is not one of ours (yet): Stripe retries',
    },
    { status: 502, description: 'Stripe failed a follow-up (a duplicate payment’s refund): Stripe retries' },
    { status: 503, description: 'Billing is not configured on this server (code feature_not_configured)' },
  )
  handleStripeWebhook(
    @Req() req: Request,
    @Headers('stripe-signature') signature?: string,
  ): Promise<WebhookAckDto> {
    return this.webhooks.receive(req.body, signature);
  }
}
