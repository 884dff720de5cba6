import {
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Put,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConsumes,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPaymentRequiredResponse,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { ErrorResponseDto } from '../../common/dto/error-response.dto.js';
import { OkDto } from '../storage/dto/storage.dto.js';
import { type BackupDownload, BackupService } from './backup.service.js';
import { BackupCreatedDto, BackupInfoDto } from './dto/backup.dto.js';

@ApiTags('backup')
@ApiBearerAuth()
@Controller('backup')
export class BackupController {
  constructor(private readonly backups: BackupService) {}

  @Put()
  @HttpCode(201)
  @ApiOperation({ summary: 'Upload an encrypted backup (raw body, streamed; checksum verified on the fly)' })
  @ApiConsumes('application/octet-stream')
  @ApiHeader({ name: 'X-Backup-Version', required: true })
  @ApiHeader({ name: 'X-Backup-Timestamp', required: true, description: 'ms since epoch' })
  @ApiHeader({ name: 'X-Backup-Checksum', required: true, description: 'lowercase hex SHA-256 of the body' })
  @ApiCreatedResponse({ type: BackupCreatedDto })
  @ApiPaymentRequiredResponse({
    type: ErrorResponseDto,
    description: 'The tier has no backup storage, or the backup quota would be exceeded',
  })
  upload(@CurrentUser() user: AuthUser, @Req() req: Request): Promise<BackupCreatedDto> {
    return this.backups.upload(user, req, req.headers);
  }

  @Get('history')
  @ApiOperation({ summary: 'Backups, newest first (no bytes)' })
  @ApiOkResponse({ type: [BackupInfoDto] })
  history(@CurrentUser() user: AuthUser): Promise<BackupInfoDto[]> {
    return this.backups.history(user);
  }

  @Get()
  @ApiOperation({ summary: 'Download the latest backup (If-Modified-Since → 304; Range → 206)' })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async latest(
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res() res: Response,
    @Headers('range') range?: string,
  ): Promise<void> {
    await this.send(req, res, await this.backups.download(user, undefined, range));
  }

  @Get(':id')
  @ApiOperation({ summary: 'Download one backup from the history (Range → 206)' })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async one(
    @CurrentUser() user: AuthUser,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() req: Request,
    @Res() res: Response,
    @Headers('range') range?: string,
  ): Promise<void> {
    await this.send(req, res, await this.backups.download(user, id, range));
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Delete a backup (audited)' })
  @ApiOkResponse({ type: OkDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async remove(@CurrentUser() user: AuthUser, @Param('id', new ParseUUIDPipe()) id: string): Promise<OkDto> {
    await this.backups.remove(user, id);
    return { ok: true };
  }

  private async send(req: Request, res: Response, d: BackupDownload): Promise<void> {
    const modified = new Date(d.row.created_at);
    res.setHeader('X-Backup-Version', String(d.row.version));
    res.setHeader('X-Backup-Timestamp', String(d.row.timestamp));
    res.setHeader('X-Backup-Checksum', d.row.checksum);
    res.setHeader('Last-Modified', modified.toUTCString());
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Type', 'application/octet-stream');
    const since = req.headers['if-modified-since'];
    const sinceMs = since ? Date.parse(since) : NaN;
    // HTTP dates have one-second resolution.
    if (!d.range && Number.isFinite(sinceMs) && Math.floor(d.row.created_at / 1000) * 1000 <= sinceMs) {
      d.blob.stream.destroy();
      res.status(304).end();
      return;
    }
    if (d.range) {
      res.status(206);
      res.setHeader('Content-Range', `bytes ${d.range.start}-${d.range.end}/${d.row.size_bytes}`);
      res.setHeader('Content-Length', String(d.range.end - d.range.start + 1));
    } else {
      res.status(200);
      res.setHeader('Content-Length', String(d.row.size_bytes));
    }
    await pipeline(d.blob.stream, res).catch(() => undefined);
  }
}
