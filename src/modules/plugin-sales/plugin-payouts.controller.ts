import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../common/decorators/access.decorators.js';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { PayoutReportDto, RunPayoutsDto } from './dto/sales.dto.js';
import { PayoutsService } from './payouts.service.js';

@ApiTags('admin')
@Roles('admin')
@Controller('admin/plugins')
export class PluginPayoutsController {
  constructor(private readonly payouts: PayoutsService) {}

  @Post('payouts')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Pay developers their unpaid shares up to a month',
    description:
      'Admin role only. One Stripe transfer per developer with payouts enabled, of every unpaid share of ' +
      '`period` and earlier, net of refunds (a transfer reversal when refunds outweigh them). Running it ' +
      'again for the same period pays nobody twice; skipped developers keep accruing, with the reason.',
  })
  @ApiOkResponse({ type: PayoutReportDto })
  @ApiErrors(400, {
    status: 503,
    description: 'Stripe is not configured on this server (code feature_not_configured)',
  })
  runPluginPayouts(@Body() dto: RunPayoutsDto): Promise<PayoutReportDto> {
    return this.payouts.run(dto.period);
  }
}
