import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { Roles } from '../../common/decorators/access.decorators.js';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { PaginationQueryDto } from '../../common/dto/pagination.dto.js';
import { PluginIdParam } from '../plugin-catalog/index.js';
import {
  QuarantinePluginDto,
  QuarantineResultDto,
  ReviewPluginDto,
  ReviewQueuePageDto,
  ReviewResultDto,
} from './dto/review.dto.js';
import { ReviewService } from './plugin-review.service.js';

@ApiTags('admin')
@Roles('admin')
@Controller('admin/plugins')
export class PluginReviewController {
  constructor(private readonly review: ReviewService) {}

  @Get('review-queue')
  @ApiOperation({
    summary: 'Plugin versions waiting for review, oldest first',
    description: 'Admin role only. Each with its manifest, author and the automated checks’ findings.',
  })
  @ApiOkResponse({ type: ReviewQueuePageDto })
  @ApiErrors(400)
  listReviewQueue(@Query() query: PaginationQueryDto): Promise<ReviewQueuePageDto> {
    return this.review.queue(query);
  }

  @Post(':id/review')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Approve or reject a pending version (audited)',
    description:
      'Admin role only, never on your own plugin (403). Approval signs the package and makes the version ' +
      'live; a rejection needs notes, which the author reads in GET /plugins/mine. A version whose checks ' +
      'could not run can only be rejected.',
  })
  @ApiOkResponse({ type: ReviewResultDto })
  @ApiErrors(400, 404, 409)
  reviewPlugin(
    @CurrentUser() admin: AuthUser,
    @Param() { id }: PluginIdParam,
    @Body() dto: ReviewPluginDto,
  ): Promise<ReviewResultDto> {
    return this.review.review(admin, id, dto);
  }

  @Post(':id/quarantine')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Quarantine a plugin (audited)',
    description:
      'Admin role only. Hidden from the catalog at once and its download links stop working; installs ' +
      'stay recorded (the app sees quarantined: true).',
  })
  @ApiOkResponse({ type: QuarantineResultDto })
  @ApiErrors(400, 404)
  quarantinePlugin(
    @CurrentUser() admin: AuthUser,
    @Param() { id }: PluginIdParam,
    @Body() dto: QuarantinePluginDto,
  ): Promise<QuarantineResultDto> {
    return this.review.quarantine(admin, id, dto);
  }
}
