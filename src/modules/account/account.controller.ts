import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { AuthRateLimit } from '../../common/decorators/access.decorators.js';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { ApiUuidParam } from '../../common/decorators/api-uuid-param.decorator.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { BodyLimit } from '../../common/http/body-limit.decorator.js';
import { UuidPipe } from '../../common/input/uuid.pipe.js';
import { AccountErasureService } from './account-erasure.service.js';
import { AccountExportService } from './account-export.service.js';
import { AccountJobsService } from './account-jobs.service.js';
import {
  AccountExportDto,
  AccountRestoredDto,
  CreateExportDto,
  DeleteAccountDto,
  ErasureScheduledDto,
  ExportLinkQueryDto,
  RestoreAccountDto,
} from './dto/account.dto.js';

/** Bodies here are a flag, or an email and a password. */
const SMALL_BODY_LIMIT = '16kb';

@ApiTags('account')
@Controller('account')
export class AccountController {
  constructor(
    private readonly exports: AccountExportService,
    private readonly erasures: AccountErasureService,
    private readonly jobs: AccountJobsService,
  ) {}

  @Post('export')
  @BodyLimit(SMALL_BODY_LIMIT)
  @HttpCode(202)
  @ApiOperation({
    summary: 'Export everything the service holds about the account, as one zip archive',
    description:
      'Queued and written in the background; GET /account/export/{id} says when it is ready (and Socket.IO ' +
      '`account:export_ready` tells connected clients). One export at a time (409 export_in_progress), ' +
      'three a day (429 rate_limited with Retry-After). Layout: docs/privacy.md.',
  })
  @ApiAcceptedResponse({ type: AccountExportDto })
  @ApiErrors(
    400,
    { status: 409, description: 'An export is already queued or running (code export_in_progress)' },
    429,
  )
  async createExport(@CurrentUser() user: AuthUser, @Body() dto: CreateExportDto): Promise<AccountExportDto> {
    const created = await this.exports.request(user, dto.include_backups ?? false);
    this.jobs.kick();
    return created;
  }

  @Get('export/:id')
  @ApiOperation({
    summary: 'An export: its status and, when ready, a download link valid 15 minutes',
    description: 'Another account’s export answers 404. The archive is removed 7 days after it was written.',
  })
  @ApiUuidParam('id', 'From POST /account/export')
  @ApiOkResponse({ type: AccountExportDto })
  @ApiErrors(400, 404)
  getExport(@CurrentUser() user: AuthUser, @Param('id', UuidPipe) id: string): Promise<AccountExportDto> {
    return this.exports.get(user, id);
  }

  @Get('export/:id/download')
  @Public()
  @ApiOperation({
    summary: 'Download an export archive through a signed link (files driver)',
    description:
      'The download_url of a ready export when blobs are files: no credentials, the link is the ' +
      'authorization (15 minutes). Expired → 403 link_expired; altered → 403 link_invalid; removed → 404.',
  })
  @ApiUuidParam('id', 'From the download_url')
  @ApiProduces('application/zip')
  @ApiOkResponse({ description: 'The zip archive', schema: { type: 'string', format: 'binary' } })
  @ApiErrors(
    400,
    { status: 403, description: 'The link expired (code link_expired) or was altered (code link_invalid)' },
    { status: 404, description: 'The archive was removed (7 days) or the account erased (code not_found)' },
  )
  async downloadExport(
    @Param('id', UuidPipe) id: string,
    @Query() link: ExportLinkQueryDto,
    @Res() res: Response,
  ): Promise<void> {
    const blob = await this.exports.download(id, link.expires, link.signature);
    res.status(200);
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('Content-Length', String(blob.size));
    res.setHeader('Content-Disposition', `attachment; filename="adiuva-export-${id}.zip"`);
    res.setHeader('Cache-Control', 'private, no-store');
    await pipeline(blob.stream, res).catch(() => undefined);
  }

  @Delete()
  @AuthRateLimit()
  @BodyLimit(SMALL_BODY_LIMIT)
  @HttpCode(202)
  @ApiOperation({
    summary: 'Delete the account: disabled now, erased after the grace period',
    description:
      'The password confirms it (401 invalid_credentials otherwise; tries are limited per account and per IP ' +
      'like sign-in). An account made by SSO or GitHub has no password: the access token of a sign-in ' +
      'through its provider within the last 10 minutes confirms it (403 reauthentication_required ' +
      'otherwise, and always with an API key). Every session and API key ends and ' +
      'live sockets are cut at once; a subscription stops renewing. POST /account/restore undoes it until ' +
      'scheduled_for (ACCOUNT_ERASURE_GRACE_DAYS, 30 by default); then everything is erased (docs/privacy.md).',
  })
  @ApiAcceptedResponse({ type: ErasureScheduledDto })
  @ApiErrors(
    400,
    { status: 401, description: 'Wrong password (code invalid_credentials)' },
    {
      status: 403,
      description:
        'An account without a password, not signed in through SSO or GitHub in the last 10 minutes ' +
        '(code reauthentication_required): sign in again through the provider and retry',
    },
    429,
  )
  deleteAccount(@CurrentUser() user: AuthUser, @Body() dto: DeleteAccountDto): Promise<ErasureScheduledDto> {
    return this.erasures.request(user, dto.password);
  }

  @Post('restore')
  @Public()
  @AuthRateLimit()
  @BodyLimit(SMALL_BODY_LIMIT)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Undo an account deletion inside its grace period',
    description:
      'The account is disabled, so this route signs in by email and password itself (limited per IP and ' +
      'per account like sign-in). Then sign in as usual. 409 erasure_not_pending when the account is not ' +
      'waiting for erasure or its erasure has begun.',
  })
  @ApiOkResponse({ type: AccountRestoredDto })
  @ApiErrors(
    400,
    { status: 401, description: 'Wrong email or password, never saying which (code invalid_credentials)' },
    {
      status: 409,
      description:
        'The account is not waiting for erasure, or its erasure has begun (code erasure_not_pending)',
    },
    429,
  )
  restoreAccount(@Body() dto: RestoreAccountDto): Promise<AccountRestoredDto> {
    return this.erasures.restore(dto.email, dto.password);
  }
}
