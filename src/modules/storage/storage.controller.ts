import { OkDto } from '../../common/dto/ok.dto.js';
import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { ApiUuidParam } from '../../common/decorators/api-uuid-param.decorator.js';
import type { Request, Response } from 'express';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { VersionConflictErrorDto } from '../../common/dto/error-response.dto.js';
import { PaginationQueryDto } from '../../common/dto/pagination.dto.js';
import { BodyLimit } from '../../common/http/body-limit.decorator.js';
import { setPageHeaders } from '../../common/http/page-headers.js';
import type { AppConfig } from '../../config/app-config.js';
import { checkDeviceId, DeviceIdPipe } from './device-id.pipe.js';
import {
  ChangesPageDto,
  ChangesQueryDto,
  ConflictPageDto,
  CreateRecordDto,
  DEVICE_ID,
  DeviceDto,
  DeviceInfoDto,
  DeviceListDto,
  ListRecordsQueryDto,
  RecordCreatedDto,
  RecordMetaDto,
  RecordUpdatedDto,
  UpdateRecordDto,
  UsageDto,
} from './dto/storage.dto.js';
import { StorageQuotaService } from './storage-quota.service.js';
import { StorageService } from './storage.service.js';
import { SyncService } from './sync.service.js';
import { UuidPipe } from '../../common/input/uuid.pipe.js';

/** A record write carries up to STORAGE_MAX_RECORD_BYTES as base64 (4/3 of it) plus a little JSON. */
const recordBodyLimit = (config: AppConfig) => Math.ceil((config.storageMaxRecordBytes * 4) / 3) + 64 * 1024;

@ApiTags('storage')
@Controller('storage')
export class StorageController {
  constructor(
    private readonly storage: StorageService,
    private readonly sync: SyncService,
    private readonly quota: StorageQuotaService,
  ) {}

  @Post('records')
  @BodyLimit(recordBodyLimit)
  @ApiOperation({
    summary: 'Store an encrypted record (checksum verified, quota enforced)',
    description:
      'Encrypt on the device, send the bytes as base64 with the lowercase hex SHA-256 of the raw bytes. ' +
      'A mismatch is 400 (code checksum_mismatch) and stores nothing. The record starts at version 1.',
  })
  @ApiCreatedResponse({ type: RecordCreatedDto })
  @ApiErrors(
    { status: 402, description: 'Storage quota exceeded, or the tier has no cloud storage' },
    { status: 413, description: 'The blob is over the per-record size limit' },
  )
  createRecord(@CurrentUser() user: AuthUser, @Body() dto: CreateRecordDto): Promise<RecordCreatedDto> {
    return this.storage.create(user, dto);
  }

  @Get('records')
  @ApiOperation({
    summary: 'Record metadata (no bytes), oldest first',
    description:
      'A JSON array of one page. X-Total-Count says how many records match; while more remain, Link has ' +
      'the URL of the next page (rel="next"). Download the bytes with GET /storage/records/{id}.',
  })
  @ApiOkResponse({
    type: [RecordMetaDto],
    headers: {
      'X-Total-Count': { description: 'Records matching the filter, all pages', schema: { type: 'integer' } },
      Link: {
        description: 'The next page, when there is one: `</api/v1/storage/records?…&page=N>; rel="next"`',
        schema: { type: 'string' },
      },
    },
  })
  async listRecords(
    @CurrentUser() user: AuthUser,
    @Query() query: ListRecordsQueryDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RecordMetaDto[]> {
    const page = await this.storage.list(user, {
      table: query.table,
      page: query.page,
      limit: query.limit ?? 50,
    });
    setPageHeaders(req, res, page);
    return page.records;
  }

  @Get('records/:id')
  @ApiUuidParam()
  @ApiOperation({
    summary: 'The record’s encrypted bytes; X-Checksum and ETag (= version)',
    description:
      'Check X-Checksum against the SHA-256 of the bytes before decrypting. The ETag is the version: ' +
      'send it back as If-Match on PUT to update only if nobody changed it meanwhile.',
  })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({
    description: 'The encrypted bytes',
    schema: { type: 'string', format: 'binary' },
    headers: {
      'X-Checksum': { description: 'Lowercase hex SHA-256 of the bytes', schema: { type: 'string' } },
      ETag: { description: 'The record’s version, quoted: "3"', schema: { type: 'string' } },
    },
  })
  @ApiErrors(404)
  async getRecord(
    @CurrentUser() user: AuthUser,
    @Param('id', UuidPipe) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const { blob, checksum, version } = await this.storage.download(user, id);
    res.setHeader('X-Checksum', checksum);
    res.setHeader('ETag', `"${version}"`);
    return new StreamableFile(blob.stream, { type: 'application/octet-stream', length: blob.size });
  }

  @Put('records/:id')
  @BodyLimit(recordBodyLimit)
  @ApiUuidParam()
  @ApiOperation({
    summary: 'Replace a record',
    description:
      'With base_version (or If-Match) a stale base answers 409; without, the write wins and the overwritten version goes to the conflict log.',
  })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'The base version as the ETag gave it, e.g. "3" (instead of base_version)',
  })
  @ApiOkResponse({ type: RecordUpdatedDto })
  @ApiErrors(404, 402, 413, {
    status: 409,
    type: VersionConflictErrorDto,
    description: 'Stale base (code version_conflict): the body has current_version and checksum',
  })
  updateRecord(
    @CurrentUser() user: AuthUser,
    @Param('id', UuidPipe) id: string,
    @Body() dto: UpdateRecordDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<RecordUpdatedDto> {
    return this.storage.update(user, id, dto, ifMatch);
  }

  @Delete('records/:id')
  @ApiUuidParam()
  @ApiOperation({
    summary: 'Delete a record (a tombstone is kept 30 days for sync)',
    description: 'Frees its quota at once; other devices see a delete in the changes feed.',
  })
  @ApiOkResponse({ type: OkDto })
  @ApiErrors(404)
  async deleteRecord(@CurrentUser() user: AuthUser, @Param('id', UuidPipe) id: string): Promise<OkDto> {
    await this.storage.remove(user, id);
    return { ok: true };
  }

  @Get('conflicts')
  @ApiOperation({
    summary: 'Versions overwritten by writes without a base (kept 30 days)',
    description:
      'A PUT without base_version or If-Match always wins; the version it overwrote is listed here so a ' +
      'client can merge it. Its bytes: GET /storage/conflicts/{id}/blob.',
  })
  @ApiOkResponse({ type: ConflictPageDto })
  listConflicts(@CurrentUser() user: AuthUser, @Query() query: PaginationQueryDto): Promise<ConflictPageDto> {
    return this.storage.conflicts(user, query);
  }

  @Get('conflicts/:id/blob')
  @ApiUuidParam()
  @ApiOperation({
    summary: 'The bytes of an overwritten version',
    description: 'Check X-Checksum against the SHA-256 of the bytes before decrypting.',
  })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({
    description: 'The encrypted bytes of the overwritten version',
    schema: { type: 'string', format: 'binary' },
    headers: {
      'X-Checksum': { description: 'Lowercase hex SHA-256 of the bytes', schema: { type: 'string' } },
    },
  })
  @ApiErrors(404)
  async getConflictBlob(
    @CurrentUser() user: AuthUser,
    @Param('id', UuidPipe) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const { blob, checksum } = await this.storage.conflictBlob(user, id);
    res.setHeader('X-Checksum', checksum);
    return new StreamableFile(blob.stream, { type: 'application/octet-stream', length: blob.size });
  }

  @Get('usage')
  @ApiOperation({
    summary: 'Bytes used (records and conflict copies) against the tier’s quota',
    description: 'quota_bytes null means unlimited. Vectors count against the same quota.',
  })
  @ApiOkResponse({ type: UsageDto })
  getStorageUsage(@CurrentUser() user: AuthUser): Promise<UsageDto> {
    return this.quota.usageOf(user);
  }

  @Get('changes')
  @ApiOperation({
    summary: 'Changes feed for sync: upserts and deletes in commit order',
    description:
      'Pull with cursor = next_cursor until has_more is false: every change is seen exactly once. ' +
      'X-Device-Id records the device’s position (see GET /storage/devices).',
  })
  @ApiHeader({
    name: 'X-Device-Id',
    required: false,
    description: 'This device’s id (^[A-Za-z0-9._:-]{1,100}$); the server records its last sync and cursor',
    schema: { type: 'string', pattern: DEVICE_ID.source },
  })
  @ApiOkResponse({ type: ChangesPageDto })
  @ApiErrors({ status: 400, description: 'Invalid cursor (code invalid_cursor), limit or X-Device-Id' })
  listChanges(
    @CurrentUser() user: AuthUser,
    @Query() query: ChangesQueryDto,
    @Headers('x-device-id') deviceId?: string,
  ): Promise<ChangesPageDto> {
    return this.sync.changes(user, query.cursor, query.limit, checkDeviceId(deviceId));
  }

  @Put('devices/:device_id')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Register or rename a device',
    description:
      'device_id is chosen by the client (^[A-Za-z0-9._:-]{1,100}$); send the same one as X-Device-Id.',
  })
  @ApiParam({
    name: 'device_id',
    description: 'The device’s id, chosen by the client',
    schema: { type: 'string', pattern: DEVICE_ID.source },
  })
  @ApiOkResponse({ type: DeviceInfoDto })
  putDevice(
    @CurrentUser() user: AuthUser,
    @Param('device_id', DeviceIdPipe) deviceId: string,
    @Body() dto: DeviceDto,
  ): Promise<DeviceInfoDto> {
    return this.sync.putDevice(user, deviceId, dto.name);
  }

  @Get('devices')
  @ApiOperation({
    summary: 'Devices with their last sync time and feed position',
    description: 'last_sync_at is when the device last pulled the changes feed with its X-Device-Id.',
  })
  @ApiOkResponse({ type: DeviceListDto })
  async listDevices(@CurrentUser() user: AuthUser): Promise<DeviceListDto> {
    return { devices: await this.sync.devices(user) };
  }
}
