import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { BodyLimit } from '../../common/http/body-limit.decorator.js';
import { DevelopersService } from './developers.service.js';
import { DeveloperStatusDto, EarningsDto, EarningsQueryDto, OnboardingLinkDto } from './dto/sales.dto.js';

/** A Connect request: a few small fields. */
const SMALL_BODY_LIMIT = '64kb';

/**
 * Plugin developers as payees: their Stripe account and their earnings. Under
 * `/plugins` beside the catalog, whose `:id` routes would match these static
 * paths: app.module.ts imports this module before the catalog's.
 */
@ApiTags('marketplace')
@ApiBearerAuth()
@ApiSecurity('api_key')
@Controller('plugins')
export class PluginSalesController {
  constructor(private readonly developers: DevelopersService) {}

  @Post('developer/connect')
  @BodyLimit(SMALL_BODY_LIMIT)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Connect a Stripe account to be paid for your plugins',
    description:
      'Any account. Creates your Stripe Express connected account once and answers a fresh onboarding link ' +
      '(call again for a new one). Payouts start when Stripe enables them (GET /plugins/developer).',
  })
  @ApiOkResponse({ type: OnboardingLinkDto })
  @ApiErrors(
    { status: 502, description: 'Stripe refused or did not answer' },
    { status: 503, description: 'Stripe is not configured on this server (code feature_not_configured)' },
  )
  connectDeveloperAccount(@CurrentUser() user: AuthUser): Promise<OnboardingLinkDto> {
    return this.developers.connect(user);
  }

  @Get('developer')
  @ApiOperation({
    summary: 'Your connected Stripe account and whether payouts are enabled',
    description: 'Any account. payouts_enabled follows Stripe’s account.updated events.',
  })
  @ApiOkResponse({ type: DeveloperStatusDto })
  getDeveloperAccount(@CurrentUser() user: AuthUser): Promise<DeveloperStatusDto> {
    return this.developers.status(user);
  }

  @Get('earnings')
  @ApiOperation({
    summary: 'Your plugins’ sales, your share and what was paid out, for one month',
    description:
      'Any account. EUR cents of the UTC month `period` (default the current one), net of refunds; your ' +
      'share is floor(price × 70 / 100) per sale.',
  })
  @ApiOkResponse({ type: EarningsDto })
  @ApiErrors(400)
  getEarnings(@CurrentUser() user: AuthUser, @Query() query: EarningsQueryDto): Promise<EarningsDto> {
    return this.developers.earnings(user, query);
  }
}
