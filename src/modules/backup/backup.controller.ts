import {
  applyDecorators,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Put,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { CHECKSUM_PATTERN } from '../../common/checksum.js';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { ApiUuidParam } from '../../common/decorators/api-uuid-param.decorator.js';
import { OkDto } from '../../common/dto/ok.dto.js';
import { StreamedBody } from '../../common/http/body-limit.decorator.js';
import { type BackupDownload, BackupService } from './backup.service.js';
import { BackupCreatedDto, BackupInfoDto } from './dto/backup.dto.js';
import { UuidPipe } from '../../common/input/uuid.pipe.js';

const BACKUP_HEADERS = {
  'X-Backup-Version': {
    description: 'The version the client sent with the upload',
    schema: { type: 'integer' },
  },
  'X-Backup-Timestamp': {
    description: 'The timestamp the client sent with the upload (ms)',
    schema: { type: 'integer' },
  },
  'X-Backup-Checksum': {
    description: 'Lowercase hex SHA-256 of the whole backup',
    schema: { type: 'string' },
  },
  'Last-Modified': { description: 'When the backup was stored (HTTP date)', schema: { type: 'string' } },
  'Accept-Ranges': { description: 'bytes: ranged downloads are supported', schema: { type: 'string' } },
};
const BINARY = { type: 'string', format: 'binary' } as const;

/** The responses of both download routes. */
const DownloadResponses = () =>
  applyDecorators(
    ApiProduces('application/octet-stream'),
    ApiHeader({
      name: 'Range',
      required: false,
      description: 'One byte range, e.g. bytes=1048576- to resume; answered with 206',
      schema: { type: 'string', pattern: '^bytes=(\\d*)-(\\d*)$' },
    }),
    ApiOkResponse({ description: 'The whole backup', schema: BINARY, headers: BACKUP_HEADERS }),
    ApiResponse({
      status: 206,
      description: 'The requested range of the backup',
      content: { 'application/octet-stream': { schema: BINARY } },
      headers: {
        ...BACKUP_HEADERS,
        'Content-Range': {
          description: 'bytes start-end/size of the part sent',
          schema: { type: 'string' },
        },
      },
    }),
    ApiErrors(404, {
      status: 416,
      description: 'The range lies outside the backup (code range_not_satisfiable)',
    }),
  );

@ApiTags('backup')
@Controller('backup')
export class BackupController {
  constructor(private readonly backups: BackupService) {}

  @Put()
  @StreamedBody()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Upload an encrypted backup (raw body, streamed; checksum verified on the fly)',
    description:
      'Send the encrypted bytes as the raw body (Content-Type: application/octet-stream, not JSON) with ' +
      'the three X-Backup-* headers. A checksum mismatch (400), a quota excess (402) or a dropped ' +
      'connection stores nothing and leaves the previous backup untouched. The newest BACKUP_KEEP ' +
      'backups are kept.',
  })
  @ApiConsumes('application/octet-stream')
  @ApiBody({ required: true, description: 'The encrypted backup bytes', schema: BINARY })
  @ApiHeader({
    name: 'X-Backup-Version',
    required: true,
    description: 'The client’s backup format version',
    schema: { type: 'string', pattern: '^\\d{1,9}$' },
  })
  @ApiHeader({
    name: 'X-Backup-Timestamp',
    required: true,
    description: 'When the client made the backup, ms since epoch',
    schema: { type: 'string', pattern: '^\\d{1,15}$' },
  })
  @ApiHeader({
    name: 'X-Backup-Checksum',
    required: true,
    description: 'Lowercase hex SHA-256 of the body',
    schema: { type: 'string', pattern: CHECKSUM_PATTERN.source },
  })
  @ApiCreatedResponse({ type: BackupCreatedDto })
  @ApiErrors(
    {
      status: 400,
      description: 'Missing or bad X-Backup-* header, checksum mismatch, or an interrupted upload',
    },
    { status: 402, description: 'The tier has no backup storage, or the backup quota would be exceeded' },
  )
  uploadBackup(@CurrentUser() user: AuthUser, @Req() req: Request): Promise<BackupCreatedDto> {
    return this.backups.upload(user, req, req.headers);
  }

  @Get('history')
  @ApiOperation({
    summary: 'Backups, newest first (no bytes)',
    description: 'A JSON array of the stored backups; download one with GET /backup/{id}.',
  })
  @ApiOkResponse({ type: [BackupInfoDto] })
  getBackupHistory(@CurrentUser() user: AuthUser): Promise<BackupInfoDto[]> {
    return this.backups.history(user);
  }

  @Get()
  @ApiOperation({
    summary: 'Download the latest backup (If-Modified-Since → 304; Range → 206)',
    description:
      'Send If-Modified-Since with the Last-Modified you have: 304 (no body) when no newer backup exists. ' +
      'Send Range to download part of it (206), e.g. to resume. Check X-Backup-Checksum over the whole backup.',
  })
  @ApiHeader({
    name: 'If-Modified-Since',
    required: false,
    description: 'An HTTP date, usually the Last-Modified of the backup you have',
  })
  @DownloadResponses()
  @ApiResponse({
    status: 304,
    description: 'The latest backup is not newer than If-Modified-Since',
    headers: BACKUP_HEADERS,
  })
  async getLatestBackup(
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res() res: Response,
    @Headers('range') range?: string,
  ): Promise<void> {
    await this.send(req, res, await this.backups.download(user, undefined, range));
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Download one backup from the history (Range → 206)',
    description:
      'Send Range to download part of it (206). Another account’s backup id is 404, as a missing one.',
  })
  @ApiUuidParam('id', 'The backup’s id, from GET /backup/history')
  @DownloadResponses()
  async getBackup(
    @CurrentUser() user: AuthUser,
    @Param('id', UuidPipe) id: string,
    @Req() req: Request,
    @Res() res: Response,
    @Headers('range') range?: string,
  ): Promise<void> {
    await this.send(req, res, await this.backups.download(user, id, range));
  }

  @Delete(':id')
  @ApiOperation({
    summary: 'Delete a backup (audited)',
    description: 'Frees its quota at once. Another account’s backup id is 404, as a missing one.',
  })
  @ApiUuidParam('id', 'The backup’s id, from GET /backup/history')
  @ApiOkResponse({ type: OkDto })
  @ApiErrors(404)
  async deleteBackup(@CurrentUser() user: AuthUser, @Param('id', UuidPipe) id: string): Promise<OkDto> {
    await this.backups.remove(user, id);
    return { ok: true };
  }

  private async send(req: Request, res: Response, download: BackupDownload): Promise<void> {
    const modified = new Date(download.row.created_at);
    res.setHeader('X-Backup-Version', String(download.row.version));
    res.setHeader('X-Backup-Timestamp', String(download.row.timestamp));
    res.setHeader('X-Backup-Checksum', download.row.checksum);
    res.setHeader('Last-Modified', modified.toUTCString());
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Type', 'application/octet-stream');
    const since = req.headers['if-modified-since'];
    const sinceMs = since ? Date.parse(since) : NaN;
    // HTTP dates have one-second resolution.
    if (
      !download.range &&
      Number.isFinite(sinceMs) &&
      Math.floor(download.row.created_at / 1000) * 1000 <= sinceMs
    ) {
      download.blob.stream.destroy();
      res.status(304).end();
      return;
    }
    if (download.range) {
      res.status(206);
      res.setHeader(
        'Content-Range',
        `bytes ${download.range.start}-${download.range.end}/${download.row.size_bytes}`,
      );
      res.setHeader('Content-Length', String(download.range.end - download.range.start + 1));
    } else {
      res.status(200);
      res.setHeader('Content-Length', String(download.row.size_bytes));
    }
    await pipeline(download.blob.stream, res).catch(() => undefined);
  }
}
