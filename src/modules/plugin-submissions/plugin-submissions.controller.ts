import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { BodyLimit } from '../../common/http/body-limit.decorator.js';
import { PluginIdParam } from '../plugin-catalog/index.js';
import {
  MAX_PACKAGE_BASE64,
  MyPluginsDto,
  PluginChecksFailedErrorDto,
  SubmissionDto,
  SubmitPluginDto,
} from './dto/submission.dto.js';
import { SubmissionsService } from './plugin-submissions.service.js';

const CHECKS_FAILED = {
  status: 400,
  type: PluginChecksFailedErrorDto,
  description:
    'Invalid body (validation_failed), or failed automated checks (plugin_checks_failed, with checks)',
} as const;

const SUBMISSIONS_LIMITED = {
  status: 429,
  description:
    'Rate limited (code rate_limited): the hourly submission limit (PLUGIN_SUBMISSIONS_PER_HOUR), or your ' +
    'share of the checks queue; see Retry-After',
} as const;

const CHECKS_BUSY = {
  status: 503,
  description: 'Too many submissions being checked (service_unavailable); retry after Retry-After seconds',
} as const;

/** A submission carries its package as base64 (a 10 MiB zip is ~13.4 MiB of JSON) beside the manifest. */
const SUBMISSION_BODY_LIMIT = MAX_PACKAGE_BASE64 + 64 * 1024;

/**
 * Developers' submissions, under `/plugins` beside the catalog, whose `GET :id`
 * would match `GET mine`: app.module.ts imports this module before the catalog's.
 */
@ApiTags('marketplace')
@ApiBearerAuth()
@ApiSecurity('api_key')
@Controller('plugins')
export class PluginSubmissionsController {
  constructor(private readonly submissions: SubmissionsService) {}

  @Get('mine')
  @ApiOperation({
    summary: "The caller's plugins and every version's status",
    description:
      'Any account. Each version with its status, the automated checks’ findings and the reviewer’s notes ' +
      '(why it was rejected).',
  })
  @ApiOkResponse({ type: MyPluginsDto })
  listMyPlugins(@CurrentUser() user: AuthUser): Promise<MyPluginsDto> {
    return this.submissions.mine(user);
  }

  @Post()
  @BodyLimit(SUBMISSION_BODY_LIMIT)
  @ApiOperation({
    summary: 'Submit a new plugin',
    description:
      'Any account. The id must be free (409 plugin_id_taken when another author has it). The automated ' +
      'checks run first: any failure answers 400 listing every check; otherwise the version waits for ' +
      'review (pending_review, or checks_errored when a check could not run). At most 5 submissions ' +
      'waiting per account.',
  })
  @ApiCreatedResponse({ type: SubmissionDto })
  @ApiErrors(CHECKS_FAILED, 409, 413, SUBMISSIONS_LIMITED, CHECKS_BUSY)
  submitPlugin(@CurrentUser() user: AuthUser, @Body() dto: SubmitPluginDto): Promise<SubmissionDto> {
    return this.submissions.submitPlugin(user, dto);
  }

  @Post(':id/versions')
  @BodyLimit(SUBMISSION_BODY_LIMIT)
  @ApiOperation({
    summary: 'Submit a new version of your plugin',
    description:
      'The author only (403). Goes through the checks and review again; the approved version stays live ' +
      'meanwhile. A version number is used once (409), except after checks that could not run.',
  })
  @ApiCreatedResponse({ type: SubmissionDto })
  @ApiErrors(CHECKS_FAILED, 403, 404, 409, 413, SUBMISSIONS_LIMITED, CHECKS_BUSY)
  submitPluginVersion(
    @CurrentUser() user: AuthUser,
    @Param() { id }: PluginIdParam,
    @Body() dto: SubmitPluginDto,
  ): Promise<SubmissionDto> {
    return this.submissions.submitVersion(user, id, dto);
  }
}
