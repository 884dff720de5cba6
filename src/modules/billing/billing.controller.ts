import { Body, Controller, Delete, Get, Headers, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { SkipRateLimit } from '../../common/decorators/access.decorators.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { ErrorResponseDto } from '../../common/dto/error-response.dto.js';
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
@ApiServiceUnavailableResponse({
  type: ErrorResponseDto,
  description: 'Billing is not configured on this server',
})
@Controller('billing')
export class BillingController {
  constructor(
    private readonly billing: BillingService,
    private readonly webhooks: BillingWebhookService,
  ) {}

  @Public()
  @Get('tiers')
  @ApiOperation({ summary: 'Tiers: features, monthly price (EUR cents; team per seat) and rate limits' })
  @ApiOkResponse({ type: TierListDto })
  tiers(): TierListDto {
    return this.billing.tiers();
  }

  @Post('checkout')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Start a Stripe Checkout for a paid tier; open checkout_url in a browser' })
  @ApiOkResponse({ type: CheckoutResponseDto })
  @ApiBadGatewayResponse({ type: ErrorResponseDto, description: 'Stripe refused or did not answer' })
  @HttpCode(200)
  checkout(@CurrentUser() user: AuthUser, @Body() dto: CheckoutDto): Promise<CheckoutResponseDto> {
    return this.billing.checkout(user, dto);
  }

  @Get('subscription')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The account’s subscription and effective tier' })
  @ApiOkResponse({ type: SubscriptionDto })
  subscription(@CurrentUser() user: AuthUser): Promise<SubscriptionDto> {
    return this.billing.subscription(user);
  }

  @Delete('subscription')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Cancel the subscription at Stripe now; the paid tier ends at once' })
  @ApiOkResponse({ type: CanceledSubscriptionDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiBadGatewayResponse({ type: ErrorResponseDto })
  async cancel(@CurrentUser() user: AuthUser): Promise<CanceledSubscriptionDto> {
    return { ok: true, ...(await this.billing.cancel(user)) };
  }

  @Public()
  @SkipRateLimit()
  @Post('webhook')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stripe webhook (signed with STRIPE_WEBHOOK_SECRET)' })
  @ApiHeader({ name: 'Stripe-Signature', required: true })
  @ApiBody({
    description: 'The event, exactly as Stripe sent it (verified on the raw bytes)',
    schema: { type: 'object' },
  })
  @ApiOkResponse({ type: WebhookAckDto })
  webhook(@Req() req: Request, @Headers('stripe-signature') signature?: string): Promise<WebhookAckDto> {
    return this.webhooks.receive(req.body, signature);
  }
}
