import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { CHECKSUM_PATTERN } from '../../../common/checksum.js';
import { NestedDto, ToInteger } from '../../../common/decorators/validation.decorators.js';
import type { StorageAttachment } from '../entities/storage-attachment.entity.js';

const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;

export class CreateAttachmentDto {
  @ApiProperty({ format: 'uuid', description: 'The live record the attachment belongs to' })
  @IsUUID('all', { message: 'record_id must be a UUID' })
  record_id!: string;

  @ApiProperty({ minimum: 1, description: 'Exact size of the encrypted bytes' })
  @IsInt({ message: 'size_bytes must be an integer' })
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  size_bytes!: number;

  @ApiProperty({
    description: 'Lowercase hex SHA-256 of the encrypted bytes',
    pattern: CHECKSUM_PATTERN.source,
  })
  @Matches(CHECKSUM_PATTERN, { message: 'sha256 must be the lowercase hex SHA-256 of the bytes' })
  sha256!: string;

  @ApiPropertyOptional({
    description: 'A MIME type the client wants back with the attachment (the bytes are opaque to the server)',
    example: 'application/octet-stream',
  })
  @IsOptional()
  @IsString()
  @Matches(CONTENT_TYPE, { message: 'content_type must be a MIME type such as application/pdf' })
  content_type?: string;
}

/** One HTTP request the client sends straight to where the bytes go. */
export class UploadRequestDto {
  @ApiProperty({ enum: ['PUT'] })
  method!: 'PUT';

  @ApiProperty({ description: 'Presigned S3 URL, or the server’s signed upload route (files driver)' })
  url!: string;

  @ApiProperty({
    description: 'Headers to send exactly as given (S3 checks them against the signature)',
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  headers!: Record<string, string>;

  @ApiProperty({ description: 'When the URL stops working (ms since epoch)' })
  expires_at!: number;
}

export class UploadPartDto extends UploadRequestDto {
  @ApiProperty({ minimum: 1 })
  part_number!: number;

  @ApiProperty({ description: 'Where the part starts in the whole file' })
  offset!: number;

  @ApiProperty({ description: 'Exact bytes of the part' })
  size_bytes!: number;
}

export class AttachmentUploadDto {
  @ApiProperty({ format: 'uuid' })
  attachment_id!: string;

  @ApiProperty({ description: 'Complete before this (ms since epoch), or the upload is swept' })
  expires_at!: number;

  @ApiProperty({
    type: UploadRequestDto,
    nullable: true,
    description: 'One PUT of the whole file; null when in parts',
  })
  upload!: UploadRequestDto | null;

  @ApiProperty({
    type: [UploadPartDto],
    nullable: true,
    description: 'PUT each part (any order, again after a cut); keep each answer’s ETag for complete',
  })
  parts!: UploadPartDto[] | null;
}

export class CompletedPartDto {
  @ApiProperty({ minimum: 1 })
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(10_000)
  part_number!: number;

  @ApiProperty({ description: 'The ETag header the part’s PUT answered, as given' })
  @IsString()
  @MaxLength(200)
  etag!: string;
}

export class CompleteAttachmentDto {
  @ApiPropertyOptional({ type: [CompletedPartDto], description: 'Every part, for an upload in parts' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @NestedDto(() => CompletedPartDto, { each: true })
  parts?: CompletedPartDto[];
}

export class AttachmentDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  record_id!: string;

  @ApiProperty()
  size_bytes!: number;

  @ApiProperty({ description: 'Lowercase hex SHA-256 of the bytes' })
  sha256!: string;

  @ApiProperty({ type: String, nullable: true })
  content_type!: string | null;

  @ApiProperty({
    enum: ['pending', 'complete'],
    description: 'pending: uploading, its size reserved in the quota',
  })
  status!: 'pending' | 'complete';

  @ApiProperty()
  created_at!: number;

  @ApiProperty({ type: Number, nullable: true })
  completed_at!: number | null;
}

export class AttachmentDownloadDto extends AttachmentDto {
  @ApiProperty({ description: 'GET it (Range supported) within five minutes; no credentials needed' })
  download_url!: string;

  @ApiProperty({ description: 'When download_url stops working (ms since epoch)' })
  expires_at!: number;
}

export class AttachmentListDto {
  @ApiProperty({ type: [AttachmentDto] })
  attachments!: AttachmentDto[];
}

/** The query of a signed attachment link (files driver). */
export class AttachmentLinkQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 10_000, description: 'The part, for an upload in parts' })
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(10_000)
  part?: number;

  @ApiProperty({ description: 'ms since epoch' })
  @ToInteger()
  @IsInt()
  @Min(0)
  expires!: number;

  @ApiProperty()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,100}$/, { message: 'signature must be base64url' })
  signature!: string;
}

export function mapAttachment(row: StorageAttachment): AttachmentDto {
  return {
    id: row.id,
    record_id: row.recordId,
    size_bytes: Number(row.sizeBytes),
    sha256: row.checksum,
    content_type: row.contentType,
    status: row.status,
    created_at: row.createdAt.getTime(),
    completed_at: row.completedAt ? row.completedAt.getTime() : null,
  };
}
