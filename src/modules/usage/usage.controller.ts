import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { Roles } from '../../common/decorators/access.decorators.js';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { AdminUsageDto, AdminUsageQueryDto, UsageDayDto, UsageHistoryQueryDto } from './dto/usage.dto.js';
import { MICRO, utcDay } from './pricing.js';
import { UsageService } from './usage.service.js';

@ApiTags('usage')
@ApiBearerAuth()
@ApiSecurity('api_key')
@Controller('usage')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get()
  @ApiOperation({
    summary: "Today's model usage and budget",
    description:
      'Every model call of the account today (UTC) that reached the provider, however it ended (completed, ' +
      'cancelled, client gone, timed out): tokens as the provider reported them, or our estimate when it ' +
      "reported none (counted in estimated_requests), cost, and the tier's daily budget. Past the budget, " +
      'chat answers 402 spend_limit_reached until resets_at.',
  })
  @ApiOkResponse({ type: UsageDayDto })
  getUsage(@CurrentUser() user: AuthUser): Promise<UsageDayDto> {
    return this.usage.today(user);
  }

  @Get('history')
  @ApiOperation({
    summary: 'Model usage per day',
    description:
      'One row per UTC day, oldest first, the last `days` days up to today (days without calls as zeros).',
  })
  @ApiOkResponse({ type: [UsageDayDto] })
  @ApiErrors(400)
  getUsageHistory(
    @CurrentUser() user: AuthUser,
    @Query() query: UsageHistoryQueryDto,
  ): Promise<UsageDayDto[]> {
    return this.usage.history(user, query.days);
  }
}

@ApiTags('admin')
@Roles('admin')
@Controller('admin/usage')
export class AdminUsageController {
  constructor(private readonly usage: UsageService) {}

  @Get()
  @ApiOperation({
    summary: "Every account's model usage on a day",
    description: 'Admin role only. The biggest spenders first (at most `limit`), and their total.',
  })
  @ApiOkResponse({ type: AdminUsageDto })
  @ApiErrors(400)
  async getAdminUsage(@Query() query: AdminUsageQueryDto): Promise<AdminUsageDto> {
    const date = query.date ?? utcDay();
    const rows = await this.usage.usersOn(date, query.limit);
    return {
      date,
      users: rows.map((r) => ({
        user_id: r.userId,
        email: r.email,
        requests: r.requests,
        prompt_tokens: r.promptTokens,
        completion_tokens: r.completionTokens,
        cost_usd: r.costMicroUsd / MICRO,
      })),
      total_cost_usd: rows.reduce((sum, r) => sum + r.costMicroUsd, 0) / MICRO,
    };
  }
}
