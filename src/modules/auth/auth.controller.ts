import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { ApiUuidParam } from '../../common/decorators/api-uuid-param.decorator.js';
import { AuthRateLimit } from '../../common/decorators/access.decorators.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { BodyLimit } from '../../common/http/body-limit.decorator.js';
import { ApiKeysService } from './api-keys.service.js';
import { AuthService } from './auth.service.js';
import type { AuthUser } from './auth.types.js';
import {
  ApiKeyListDto,
  AuthTokensDto,
  CreateApiKeyDto,
  CreatedApiKeyDto,
  LoginDto,
  RefreshTokenDto,
  RegisterDto,
  SessionListDto,
  UserProfileDto,
} from './dto/auth.dto.js';
import { UuidPipe } from '../../common/input/uuid.pipe.js';

/** Public sign-in bodies are an email and a password, or a refresh token: small, and read before any credentials. */
const SIGN_IN_BODY_LIMIT = '16kb';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  @Public()
  @AuthRateLimit()
  @Post('register')
  @BodyLimit(SIGN_IN_BODY_LIMIT)
  @ApiOperation({
    summary: 'Create an account; returns tokens for a new session',
    description:
      'The password needs at least 10 characters. The new account has the default tier (free unless the ' +
      'server says otherwise). Use access_token as the Bearer credential and keep refresh_token to renew it. ' +
      'Limited per IP and per account (429 with Retry-After).',
  })
  @ApiCreatedResponse({ type: AuthTokensDto })
  @ApiErrors({ status: 409, description: 'An account with this email exists (code duplicate)' })
  register(@Body() dto: RegisterDto): Promise<AuthTokensDto> {
    return this.auth.register(dto);
  }

  @Public()
  @AuthRateLimit()
  @Post('login')
  @BodyLimit(SIGN_IN_BODY_LIMIT)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign in; opens a session (one per device login)',
    description:
      'A wrong email or password is the same 401 (code invalid_credentials), saying nothing about which part ' +
      'was wrong. Limited per IP and per account (429 with Retry-After).',
  })
  @ApiOkResponse({ type: AuthTokensDto })
  @ApiErrors({ status: 401, description: 'Wrong email or password, or the account is disabled' })
  login(@Body() dto: LoginDto): Promise<AuthTokensDto> {
    return this.auth.login(dto);
  }

  @Public()
  @AuthRateLimit()
  @Post('refresh')
  @BodyLimit(SIGN_IN_BODY_LIMIT)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate the refresh token',
    description:
      'Returns new tokens; keep the new refresh_token, the one sent stops working. Presenting a used one ' +
      'again revokes its whole session (401, code session_ended).',
  })
  @ApiOkResponse({ type: AuthTokensDto })
  @ApiErrors({ status: 401, description: 'Unknown, expired, reused or revoked refresh token' })
  refresh(@Body() dto: RefreshTokenDto): Promise<AuthTokensDto> {
    return this.auth.refresh(dto.refresh_token);
  }

  @Public()
  @AuthRateLimit()
  @Post('logout')
  @BodyLimit(SIGN_IN_BODY_LIMIT)
  @HttpCode(204)
  @ApiOperation({
    summary: 'End the session of a refresh token (idempotent)',
    description:
      'Its refresh token and the access tokens of that session stop working. An unknown token is also 204.',
  })
  @ApiNoContentResponse({ description: 'The session is ended' })
  logout(@Body() dto: RefreshTokenDto): Promise<void> {
    return this.auth.logout(dto.refresh_token);
  }

  @Get('me')
  @ApiOperation({
    summary: 'The signed-in account, with its tier read fresh from the database',
    description:
      'Works with an access token or an API key; tier changes (upgrades, admin overrides) show at once.',
  })
  @ApiOkResponse({ type: UserProfileDto })
  getMe(@CurrentUser() user: AuthUser): UserProfileDto {
    return { id: user.id, email: user.email, tier: user.tier, role: user.role };
  }

  @Get('sessions')
  @ApiOperation({
    summary: 'Active sessions (devices) of the account',
    description: 'One per device login; revoke one with DELETE /auth/sessions/{id}.',
  })
  @ApiOkResponse({ type: SessionListDto })
  async listSessions(@CurrentUser() user: AuthUser): Promise<SessionListDto> {
    return { sessions: await this.auth.listSessions(user) };
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiUuidParam()
  @ApiOperation({
    summary: 'Revoke a session: its refresh and access tokens stop working',
    description: 'Another account’s session id is 404, as a missing one.',
  })
  @ApiNoContentResponse({ description: 'The session is revoked' })
  @ApiErrors(404)
  deleteSession(@CurrentUser() user: AuthUser, @Param('id', UuidPipe) id: string): Promise<void> {
    return this.auth.deleteSession(user, id);
  }

  @Post('api-keys')
  @ApiOperation({
    summary: 'Create an API key; the key is in this response only',
    description:
      'Store the key now: only its hash is kept. Send it as X-API-Key or as Authorization: Bearer; it has ' +
      'the account’s tier, role and rate limit until revoked.',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  createApiKey(@CurrentUser() user: AuthUser, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    return this.apiKeys.create(user, dto.name);
  }

  @Get('api-keys')
  @ApiOperation({
    summary: 'API keys of the account (never the keys themselves)',
    description:
      'Names, prefixes and last use of the account’s keys; revoke one with DELETE /auth/api-keys/{id}.',
  })
  @ApiOkResponse({ type: ApiKeyListDto })
  async listApiKeys(@CurrentUser() user: AuthUser): Promise<ApiKeyListDto> {
    return { api_keys: await this.apiKeys.list(user) };
  }

  @Delete('api-keys/:id')
  @HttpCode(204)
  @ApiUuidParam()
  @ApiOperation({
    summary: 'Revoke an API key',
    description: 'The key stops working at once. Another account’s key id is 404, as a missing one.',
  })
  @ApiNoContentResponse({ description: 'The key is revoked' })
  @ApiErrors(404)
  revokeApiKey(@CurrentUser() user: AuthUser, @Param('id', UuidPipe) id: string): Promise<void> {
    return this.apiKeys.revoke(user, id);
  }
}
