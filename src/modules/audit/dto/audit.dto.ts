import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { PaginationQueryDto, PageOf } from '../../../common/dto/pagination.dto.js';

export class AuditQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ example: 'auth.register' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9_.]{1,64}$/, { message: 'event_type must look like auth.register' })
  event_type?: string;
}

export class AuditEntryDto {
  @ApiProperty({ example: '42' })
  id!: string;

  @ApiProperty({ example: 'auth.register' })
  event_type!: string;

  @ApiProperty({ nullable: true, type: String, format: 'uuid' })
  actor_id!: string | null;

  @ApiProperty({ nullable: true, type: String })
  subject_id!: string | null;

  @ApiProperty({ nullable: true, type: String })
  reason!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true })
  data!: Record<string, unknown>;

  @ApiProperty({ example: 1767225600000 })
  created_at!: number;

  @ApiProperty({ description: 'sha256 hex of the previous entry (zeros for the first)' })
  prev_hash!: string;

  @ApiProperty({ description: 'sha256(prev_hash ‖ canonical JSON of this entry)' })
  chain_hash!: string;
}

export class AuditPageDto extends PageOf(AuditEntryDto) {}

export class AuditVerificationDto {
  @ApiProperty()
  ok!: boolean;

  @ApiProperty({ description: 'Entries verified before the first broken one (all of them when ok)' })
  checked!: number;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Id of the first entry that does not link or hash',
  })
  first_broken_id!: string | null;
}
