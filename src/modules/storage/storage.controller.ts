import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Put,
  Query,
  Req,
  Res,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiPaymentRequiredResponse,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { ErrorResponseDto } from '../../common/dto/error-response.dto.js';
import { PaginationQueryDto } from '../../common/dto/pagination.dto.js';
import { setPageHeaders } from '../../common/http/page-headers.js';
import { checkDeviceId, DeviceIdPipe } from './device-id.pipe.js';
import {
  ChangesPageDto,
  ChangesQueryDto,
  ConflictPageDto,
  CreateRecordDto,
  DeviceDto,
  DeviceInfoDto,
  DeviceListDto,
  ListRecordsQueryDto,
  OkDto,
  RecordCreatedDto,
  RecordMetaDto,
  RecordUpdatedDto,
  UpdateRecordDto,
  UsageDto,
} from './dto/storage.dto.js';
import { StorageService } from './storage.service.js';

@ApiTags('storage')
@ApiBearerAuth()
@Controller('storage')
export class StorageController {
  constructor(private readonly storage: StorageService) {}

  @Post('records')
  @ApiOperation({ summary: 'Store an encrypted record (checksum verified, quota enforced)' })
  @ApiCreatedResponse({ type: RecordCreatedDto })
  @ApiPaymentRequiredResponse({
    type: ErrorResponseDto,
    description: 'Quota exceeded or tier without storage',
  })
  @ApiPayloadTooLargeResponse({ type: ErrorResponseDto })
  create(@CurrentUser() user: AuthUser, @Body() dto: CreateRecordDto): Promise<RecordCreatedDto> {
    return this.storage.create(user, dto);
  }

  @Get('records')
  @ApiOperation({ summary: 'Record metadata (no bytes), oldest first' })
  @ApiOkResponse({ type: [RecordMetaDto] })
  async list(
    @CurrentUser() user: AuthUser,
    @Query() q: ListRecordsQueryDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RecordMetaDto[]> {
    const page = await this.storage.list(user, { table: q.table, page: q.page, limit: q.limit ?? 50 });
    setPageHeaders(req, res, page);
    return page.records;
  }

  @Get('records/:id')
  @ApiOperation({ summary: 'The record’s encrypted bytes; X-Checksum and ETag (= version)' })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async download(
    @CurrentUser() user: AuthUser,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const { blob, checksum, version } = await this.storage.download(user, id);
    res.setHeader('X-Checksum', checksum);
    res.setHeader('ETag', `"${version}"`);
    return new StreamableFile(blob.stream, { type: 'application/octet-stream', length: blob.size });
  }

  @Put('records/:id')
  @ApiOperation({
    summary: 'Replace a record',
    description:
      'With base_version (or If-Match) a stale base answers 409; without, the write wins and the overwritten version goes to the conflict log.',
  })
  @ApiHeader({ name: 'If-Match', required: false, description: 'The base version, e.g. "3"' })
  @ApiOkResponse({ type: RecordUpdatedDto })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: 'Stale base: body has current_version and checksum',
  })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  update(
    @CurrentUser() user: AuthUser,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() dto: UpdateRecordDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<RecordUpdatedDto> {
    return this.storage.update(user, id, dto, ifMatch);
  }

  @Delete('records/:id')
  @ApiOperation({ summary: 'Delete a record (a tombstone is kept 30 days for sync)' })
  @ApiOkResponse({ type: OkDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async remove(@CurrentUser() user: AuthUser, @Param('id', new ParseUUIDPipe()) id: string): Promise<OkDto> {
    await this.storage.remove(user, id);
    return { ok: true };
  }

  @Get('conflicts')
  @ApiOperation({ summary: 'Versions overwritten by writes without a base (kept 30 days)' })
  @ApiOkResponse({ type: ConflictPageDto })
  conflicts(@CurrentUser() user: AuthUser, @Query() q: PaginationQueryDto): Promise<ConflictPageDto> {
    return this.storage.conflicts(user, q);
  }

  @Get('conflicts/:id/blob')
  @ApiOperation({ summary: 'The bytes of an overwritten version' })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async conflictBlob(
    @CurrentUser() user: AuthUser,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const { blob, checksum } = await this.storage.conflictBlob(user, id);
    res.setHeader('X-Checksum', checksum);
    return new StreamableFile(blob.stream, { type: 'application/octet-stream', length: blob.size });
  }

  @Get('usage')
  @ApiOperation({ summary: 'Bytes used (records and conflict copies) against the tier’s quota' })
  @ApiOkResponse({ type: UsageDto })
  usage(@CurrentUser() user: AuthUser): Promise<UsageDto> {
    return this.storage.usage(user);
  }

  @Get('changes')
  @ApiOperation({
    summary: 'Changes feed for sync: upserts and deletes in commit order',
    description:
      'Pull with cursor = next_cursor until has_more is false. X-Device-Id records the device’s position.',
  })
  @ApiHeader({ name: 'X-Device-Id', required: false })
  @ApiOkResponse({ type: ChangesPageDto })
  changes(
    @CurrentUser() user: AuthUser,
    @Query() q: ChangesQueryDto,
    @Headers('x-device-id') deviceId?: string,
  ): Promise<ChangesPageDto> {
    return this.storage.changes(user, q.cursor, q.limit, checkDeviceId(deviceId));
  }

  @Put('devices/:device_id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Register or rename a device' })
  @ApiOkResponse({ type: DeviceInfoDto })
  putDevice(
    @CurrentUser() user: AuthUser,
    @Param('device_id', DeviceIdPipe) deviceId: string,
    @Body() dto: DeviceDto,
  ): Promise<DeviceInfoDto> {
    return this.storage.putDevice(user, deviceId, dto.name);
  }

  @Get('devices')
  @ApiOperation({ summary: 'Devices with their last sync time and feed position' })
  @ApiOkResponse({ type: DeviceListDto })
  async devices(@CurrentUser() user: AuthUser): Promise<DeviceListDto> {
    return { devices: await this.storage.devices(user) };
  }
}
