import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { ToInteger } from '../../../common/decorators/validation.decorators.js';
import { PageOf, PaginationQueryDto } from '../../../common/dto/pagination.dto.js';
import { normaliseEmailField } from '../../../common/input/email.js';
import { ERASURE_STATUSES } from '../entities/account-erasure.entity.js';
import { EXPORT_STATUSES } from '../entities/account-export.entity.js';

export class CreateExportDto {
  @ApiPropertyOptional({
    description: 'Include the backup blobs (backups/<id>.bin); the history is always included',
    default: false,
  })
  @IsOptional()
  @IsBoolean()
  include_backups?: boolean;
}

export class AccountExportDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: EXPORT_STATUSES })
  status!: string;

  @ApiProperty()
  include_backups!: boolean;

  @ApiProperty({ example: 1767225600000 })
  created_at!: number;

  @ApiProperty({ nullable: true, type: Number, description: 'When the archive was written (ready)' })
  finished_at!: number | null;

  @ApiProperty({ nullable: true, type: Number, description: 'Size of the zip archive in bytes (ready)' })
  size_bytes!: number | null;

  @ApiProperty({ nullable: true, type: String, description: 'SHA-256 of the whole zip archive, hex (ready)' })
  checksum!: string | null;

  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'When the archive is removed (7 days after it was written)',
  })
  expires_at!: number | null;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'A link valid 15 minutes (ready only); ask again for a new one',
  })
  download_url!: string | null;

  @ApiProperty({ nullable: true, type: Number, description: 'When download_url stops working' })
  download_expires_at!: number | null;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Why the export failed (failed only); request a new one',
  })
  error!: string | null;
}

export class ExportIdParam {
  @ApiProperty({ format: 'uuid' })
  @IsString()
  id!: string;
}

export class ExportLinkQueryDto {
  @ApiProperty({ description: 'From download_url (ms since epoch)' })
  @ToInteger()
  @IsInt()
  @Min(0)
  expires!: number;

  @ApiProperty({ description: 'From download_url' })
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,100}$/, { message: 'signature must be base64url' })
  signature!: string;
}

export class DeleteAccountDto {
  @ApiPropertyOptional({
    description:
      "The account's password, confirming the request; required when the account has one. An account " +
      'made by SSO or GitHub has none: a sign-in through its provider within the last 10 minutes confirms it.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password!: string;
}

export class RestoreAccountDto {
  @ApiProperty({ example: 'ada@example.com' })
  @Transform(normaliseEmailField)
  @IsEmail()
  @MaxLength(320)
  email!: string;

  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password!: string;
}

export class ErasureScheduledDto {
  @ApiProperty({ format: 'uuid' })
  erasure_id!: string;

  @ApiProperty({ description: 'When the account is erased unless restored before (ms)' })
  scheduled_for!: number;
}

export class AccountRestoredDto {
  @ApiProperty({ example: true })
  restored!: boolean;
}

export class ErasureDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ERASURE_STATUSES })
  status!: string;

  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: 'Null once completed' })
  user_id!: string | null;

  @ApiProperty({
    format: 'uuid',
    description: 'What kept rows (sales ledger, audit chain) name the account by',
  })
  pseudonym!: string;

  @ApiProperty()
  requested_at!: number;

  @ApiProperty()
  scheduled_for!: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    description: 'Participant → when it finished (ms)',
  })
  progress!: Record<string, number>;

  @ApiProperty()
  attempts!: number;

  @ApiProperty({ nullable: true, type: String })
  last_error!: string | null;

  @ApiProperty({ nullable: true, type: Number })
  next_attempt_at!: number | null;

  @ApiProperty({ nullable: true, type: Number })
  completed_at!: number | null;
}

export class ErasurePageDto extends PageOf(ErasureDto) {}

export class ErasureQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ enum: ERASURE_STATUSES })
  @IsOptional()
  @IsIn(ERASURE_STATUSES)
  status?: string;
}
