import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, Length, MaxLength, MinLength } from 'class-validator';
import { normaliseEmailField } from '../../../common/input/email.js';
import { TIERS, type Tier } from '../../../common/tiers/tiers.js';
import type { ApiKey } from '../entities/api-key.entity.js';
import type { Session } from '../entities/session.entity.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CredentialsDto {
  @ApiProperty({ example: 'ada@example.com', description: 'Trimmed; compared case-insensitively' })
  @Transform(normaliseEmailField)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(320)
  email!: string;

  @ApiProperty({ example: 'correct horse battery', minLength: 10, maxLength: 128 })
  @IsString()
  @Length(10, 128, { message: 'password must be 10 to 128 characters long' })
  password!: string;

  @ApiPropertyOptional({ example: 'Ada’s laptop', maxLength: 100, description: 'Shown in the session list' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @Length(1, 100)
  device_name?: string;
}

export class RegisterDto extends CredentialsDto {}

export class LoginDto extends CredentialsDto {
  // Existing accounts may predate the length rule; any non-empty password may be tried.
  @ApiProperty({ example: 'correct horse battery' })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  declare password: string;
}

export class RefreshTokenDto {
  @ApiProperty({ description: 'The refresh token from the last AuthTokens' })
  @IsString()
  @Length(1, 512)
  refresh_token!: string;
}

export class AuthTokensDto {
  @ApiProperty({ description: 'JWT (HS256) for `Authorization: Bearer`' })
  access_token!: string;

  @ApiProperty({ description: 'Opaque; single use: every refresh returns a new one' })
  refresh_token!: string;

  @ApiProperty({ example: 1767225600000, description: 'Access token expiry, ms since epoch' })
  expires_at!: number;

  @ApiProperty({ enum: ['bearer'] })
  token_type!: 'bearer';
}

export class UserProfileDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'ada@example.com' })
  email!: string;

  @ApiProperty({ enum: TIERS })
  tier!: Tier;

  @ApiProperty({ enum: ['user', 'admin'] })
  role!: 'user' | 'admin';
}

export class SessionDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ nullable: true, type: String, example: 'Ada’s laptop' })
  device_name!: string | null;

  @ApiProperty({ example: 1767225600000 })
  created_at!: number;

  @ApiProperty({
    example: 1767225600000,
    description: 'Last refresh or request (updated at most once a minute)',
  })
  last_active_at!: number;

  @ApiProperty({ description: 'The session of the access token making this request' })
  current!: boolean;
}

export class SessionListDto {
  @ApiProperty({ type: [SessionDto] })
  sessions!: SessionDto[];
}

export class CreateApiKeyDto {
  @ApiProperty({ example: 'CI sync job', maxLength: 100 })
  @Transform(trim)
  @IsString()
  @Length(1, 100)
  name!: string;
}

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'CI sync job' })
  name!: string;

  @ApiProperty({ example: 'adv_3kf9', description: 'First characters of the key, to recognise it' })
  prefix!: string;

  @ApiProperty({ example: 1767225600000 })
  created_at!: number;

  @ApiProperty({ nullable: true, type: Number, example: 1767225600000 })
  last_used_at!: number | null;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ description: 'The key itself. Shown this once only: store it now.' })
  key!: string;
}

export class ApiKeyListDto {
  @ApiProperty({ type: [ApiKeyDto] })
  api_keys!: ApiKeyDto[];
}

/** A session as its owner sees it; `current` marks the one the request came with. */
export function mapSession(session: Session, currentSessionId: string | undefined): SessionDto {
  return {
    id: session.id,
    device_name: session.deviceName,
    created_at: session.createdAt.getTime(),
    last_active_at: session.lastUsedAt.getTime(),
    current: session.id === currentSessionId,
  };
}

/** An API key without its secret (which is shown once, at creation, and never stored). */
export function mapApiKey(key: ApiKey): ApiKeyDto {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    created_at: key.createdAt.getTime(),
    last_used_at: key.lastUsedAt ? key.lastUsedAt.getTime() : null,
  };
}
