import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { CHECKSUM_PATTERN } from '../../../common/checksum.js';
import type { Device } from '../entities/device.entity.js';
import type { StorageConflict } from '../entities/storage-conflict.entity.js';
import type { StorageRecord } from '../entities/storage-record.entity.js';
import { IsBase64Payload } from '../../../common/input/base64.js';
import { PaginationQueryDto } from '../../../common/dto/pagination.dto.js';
import { ToInteger } from '../../../common/decorators/validation.decorators.js';

const TABLE = /^[a-z][a-z0-9_]{0,62}$/;

export class CreateRecordDto {
  @ApiProperty({ example: 'notes', pattern: TABLE.source })
  @IsString()
  @Matches(TABLE, { message: 'table must match ^[a-z][a-z0-9_]{0,62}$' })
  table!: string;

  @ApiProperty({ description: 'The encrypted bytes, base64', format: 'byte' })
  @IsString()
  @IsBase64Payload({ message: 'blob must be base64' })
  blob!: string;

  @ApiProperty({
    description: 'Lowercase hex SHA-256 of the raw (decoded) bytes',
    pattern: CHECKSUM_PATTERN.source,
  })
  @Matches(CHECKSUM_PATTERN, { message: 'checksum must be the lowercase hex SHA-256 of the raw bytes' })
  checksum!: string;
}

export class UpdateRecordDto {
  @ApiProperty({ description: 'The encrypted bytes, base64', format: 'byte' })
  @IsString()
  @IsBase64Payload({ message: 'blob must be base64' })
  blob!: string;

  @ApiProperty({ pattern: CHECKSUM_PATTERN.source })
  @Matches(CHECKSUM_PATTERN, { message: 'checksum must be the lowercase hex SHA-256 of the raw bytes' })
  checksum!: string;

  @ApiPropertyOptional({
    minimum: 1,
    description: 'The version this write is based on (or If-Match). Stale → 409. Without it the write wins.',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  base_version?: number;
}

export class ListRecordsQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ example: 'notes', pattern: TABLE.source, description: 'Only records of this table' })
  @IsOptional()
  @Matches(TABLE, { message: 'table must match ^[a-z][a-z0-9_]{0,62}$' })
  table?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(500)
  override limit: number = 50;
}

export class ChangesQueryDto {
  @ApiPropertyOptional({ description: 'next_cursor of the previous page; empty = from the beginning' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 200 })
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit: number = 200;
}

export class DeviceDto {
  @ApiProperty({ example: 'Ada’s phone', maxLength: 100 })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @Length(1, 100)
  name!: string;
}

export class RecordCreatedDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 1767225600000 }) created_at!: number;
  @ApiProperty({ example: 1 }) version!: number;
}

export class RecordUpdatedDto {
  @ApiProperty({ enum: [true] }) ok!: true;
  @ApiProperty() version!: number;
  @ApiProperty() updated_at!: number;
}

export class RecordMetaDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() table!: string;
  @ApiProperty() checksum!: string;
  @ApiProperty() size_bytes!: number;
  @ApiProperty() version!: number;
  @ApiProperty() created_at!: number;
  @ApiProperty() updated_at!: number;
}

export class RecordListDto {
  @ApiProperty({ type: [RecordMetaDto] }) records!: RecordMetaDto[];
  @ApiProperty() total!: number;
  @ApiProperty() page!: number;
  @ApiProperty() limit!: number;
}

export class ChangeDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() table!: string;
  @ApiProperty({ enum: ['upsert', 'delete'] }) op!: 'upsert' | 'delete';
  @ApiProperty() version!: number;
  @ApiProperty() checksum!: string;
  @ApiProperty() size_bytes!: number;
  @ApiProperty() updated_at!: number;
}

export class ChangesPageDto {
  @ApiProperty({ type: [ChangeDto] }) changes!: ChangeDto[];
  @ApiProperty({ description: 'Pass as cursor to get the changes after these' }) next_cursor!: string;
  @ApiProperty() has_more!: boolean;
}

export class ConflictDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) record_id!: string;
  @ApiProperty() table!: string;
  @ApiProperty({ description: 'The version that was overwritten' }) version!: number;
  @ApiProperty() checksum!: string;
  @ApiProperty() size_bytes!: number;
  @ApiProperty({ description: 'When it was overwritten; the bytes: GET /storage/conflicts/{id}/blob' })
  created_at!: number;
}

export class ConflictPageDto {
  @ApiProperty({ type: [ConflictDto] }) conflicts!: ConflictDto[];
  @ApiProperty() total!: number;
  @ApiProperty() page!: number;
  @ApiProperty() limit!: number;
}

export class UsageDto {
  @ApiProperty() used_bytes!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'null = unlimited' }) quota_bytes!: number | null;
  @ApiProperty({ nullable: true, type: Number }) percent!: number | null;
}

export class DeviceInfoDto {
  @ApiProperty() device_id!: string;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
  @ApiProperty({ nullable: true, type: Number }) last_sync_at!: number | null;
  @ApiProperty({ description: 'The device’s position in the changes feed' }) cursor!: string;
}

export class DeviceListDto {
  @ApiProperty({ type: [DeviceInfoDto] }) devices!: DeviceInfoDto[];
}

export const DEVICE_ID = /^[A-Za-z0-9._:-]{1,100}$/;

export function mapRecordMeta(record: StorageRecord): RecordMetaDto {
  return {
    id: record.id,
    table: record.tableName,
    checksum: record.checksum,
    size_bytes: Number(record.sizeBytes),
    version: record.version,
    created_at: record.createdAt.getTime(),
    updated_at: record.updatedAt.getTime(),
  };
}

export function mapConflict(conflict: StorageConflict): ConflictDto {
  return {
    id: conflict.id,
    record_id: conflict.recordId,
    table: conflict.tableName,
    version: conflict.version,
    checksum: conflict.checksum,
    size_bytes: Number(conflict.sizeBytes),
    created_at: conflict.createdAt.getTime(),
  };
}

/** A device with its position in the feed as a cursor the device can resume from. */
export function mapDevice(device: Device, cursor: string): DeviceInfoDto {
  return {
    device_id: device.deviceId,
    name: device.name,
    last_sync_at: device.lastSyncAt ? device.lastSyncAt.getTime() : null,
    cursor,
  };
}
