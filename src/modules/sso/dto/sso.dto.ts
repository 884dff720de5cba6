import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsEmail,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  MaxLength,
} from 'class-validator';
import { normaliseEmailField } from '../../../common/input/email.js';
import type { SsoConnection } from '../entities/sso-connection.entity.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const lowerCaseAll = ({ value }: { value: unknown }): unknown =>
  Array.isArray(value)
    ? (value as unknown[]).map((item: unknown) =>
        typeof item === 'string' ? item.trim().toLowerCase() : item,
      )
    : value;

/** A DNS name of at least two labels, lower-case (what follows the @ of an email). */
export const DOMAIN_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export class ConfigureSsoDto {
  @ApiProperty({
    example: 'https://login.example.com',
    maxLength: 512,
    description:
      "The provider's issuer; its /.well-known/openid-configuration and JWKS are fetched and checked now",
  })
  @Transform(trim)
  @IsString()
  @Length(1, 512)
  issuer!: string;

  @ApiProperty({ example: 'adiuva', maxLength: 255, description: 'The client id registered at the provider' })
  @IsString()
  @Length(1, 255)
  client_id!: string;

  @ApiProperty({
    example: 'a-long-client-secret',
    maxLength: 1024,
    description: 'Stored encrypted (AES-256-GCM); never returned',
  })
  @IsString()
  @Length(1, 1024)
  client_secret!: string;

  @ApiProperty({
    type: [String],
    example: ['example.com'],
    maxItems: 20,
    description:
      'Email domains whose people sign in through this provider; a domain belongs to one team only',
  })
  @Transform(lowerCaseAll)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @Matches(DOMAIN_PATTERN, { each: true, message: 'each domain must be a DNS name such as example.com' })
  domains!: string[];

  @ApiProperty({
    description:
      'When true, accounts whose email is in these domains may not sign in with a password nor create API keys (403 sso_required)',
  })
  @IsBoolean()
  require_sso!: boolean;
}

export class SsoConnectionDto {
  @ApiProperty({ format: 'uuid' })
  team_id!: string;

  @ApiProperty({ example: 'https://login.example.com' })
  issuer!: string;

  @ApiProperty({ example: 'adiuva' })
  client_id!: string;

  @ApiProperty({ type: [String], example: ['example.com'] })
  domains!: string[];

  @ApiProperty()
  require_sso!: boolean;

  @ApiProperty({ description: 'ms since epoch' })
  updated_at!: number;
}

export function mapSsoConnection(connection: SsoConnection): SsoConnectionDto {
  return {
    team_id: connection.teamId,
    issuer: connection.issuer,
    client_id: connection.clientId,
    domains: [...connection.domains].sort(),
    require_sso: connection.requireSso,
    updated_at: connection.updatedAt.getTime(),
  };
}

const REDIRECT_URI_DESCRIPTION =
  'Where the browser returns with `?code=` (or `?error=&error_description=`): a loopback ' +
  'http://127.0.0.1:PORT/… listener, a URL on the public origin, or one of SSO_REDIRECT_URIS';

export class StartSsoDto {
  @ApiPropertyOptional({ example: 'ada@example.com', description: 'Finds the team by the email’s domain' })
  @IsOptional()
  @Transform(normaliseEmailField)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(320)
  email?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The team, when no email is given' })
  @IsOptional()
  @IsUUID('all')
  team_id?: string;

  @ApiProperty({
    example: 'http://127.0.0.1:51234/callback',
    maxLength: 2048,
    description: REDIRECT_URI_DESCRIPTION,
  })
  @IsString()
  @Length(1, 2048)
  redirect_uri!: string;
}

export class StartOAuthDto {
  @ApiProperty({
    example: 'http://127.0.0.1:51234/callback',
    maxLength: 2048,
    description: REDIRECT_URI_DESCRIPTION,
  })
  @IsString()
  @Length(1, 2048)
  redirect_uri!: string;
}

export class AuthorizationUrlDto {
  @ApiProperty({
    example: 'https://login.example.com/authorize?client_id=…&code_challenge=…&state=…',
    description: 'Open it in the browser; valid for 10 minutes, once',
  })
  authorization_url!: string;
}

export class ExchangeCodeDto {
  @ApiProperty({ description: 'The one-time code from the redirect (valid 2 minutes, once)', maxLength: 128 })
  @IsString()
  @Length(1, 128)
  code!: string;

  @ApiPropertyOptional({ example: 'Ada’s laptop', maxLength: 100, description: 'Shown in the session list' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @Length(1, 100)
  device_name?: string;
}

export class LinkAccountDto extends ExchangeCodeDto {
  @ApiProperty({ description: "The existing account's password, once, to link it", maxLength: 1024 })
  @IsString()
  @Length(1, 1024)
  password!: string;
}

export class CallbackQueryDto {
  @ApiPropertyOptional({ description: "The provider's authorization code" })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  code?: string;

  @ApiPropertyOptional({ description: 'The state of the sign-in' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  state?: string;
}
