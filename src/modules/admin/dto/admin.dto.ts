import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import { PaginationQueryDto, PageOf } from '../../../common/dto/pagination.dto.js';
import { normaliseEmailField } from '../../../common/input/email.js';
import { TIERS, type Tier } from '../../../common/tiers/tiers.js';

export class AdminUsersQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ description: 'Case-insensitive substring of the email', example: 'example.com' })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  @Transform(normaliseEmailField)
  email?: string;
}

export class AdminUpdateUserDto {
  @ApiPropertyOptional({
    enum: TIERS,
    nullable: true,
    description: 'Tier override; null clears it (back to subscription / DEFAULT_TIER)',
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsIn(TIERS, { message: `tier must be one of ${TIERS.join(', ')} (or null)` })
  tier?: Tier | null;

  @ApiPropertyOptional({ enum: ['user', 'admin'] })
  @IsOptional()
  @IsIn(['user', 'admin'], { message: 'role must be user or admin' })
  role?: 'user' | 'admin';

  @ApiPropertyOptional({ description: 'true signs the account out everywhere and revokes its API keys' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}

export class AdminUserDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  email!: string;

  @ApiProperty({ enum: TIERS, description: 'Effective tier' })
  tier!: Tier;

  @ApiProperty({ enum: TIERS, nullable: true, description: 'Admin override, if any' })
  tier_override!: Tier | null;

  @ApiProperty({ enum: ['user', 'admin'] })
  role!: 'user' | 'admin';

  @ApiProperty()
  disabled!: boolean;

  @ApiProperty({ example: 1767225600000 })
  created_at!: number;
}

export class AdminUserPageDto extends PageOf(AdminUserDto) {}
