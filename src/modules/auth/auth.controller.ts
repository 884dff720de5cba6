import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AuthRateLimit } from '../../common/decorators/access.decorators.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { ErrorResponseDto } from '../../common/dto/error-response.dto.js';
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

@ApiTags('auth')
@ApiUnauthorizedResponse({ type: ErrorResponseDto, description: 'Missing, invalid or expired credentials' })
@ApiTooManyRequestsResponse({ type: ErrorResponseDto, description: 'Rate limited; see Retry-After' })
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  @Public()
  @AuthRateLimit()
  @Post('register')
  @ApiOperation({ summary: 'Create an account; returns tokens for a new session' })
  @ApiCreatedResponse({ type: AuthTokensDto })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'An account with this email exists' })
  register(@Body() dto: RegisterDto): Promise<AuthTokensDto> {
    return this.auth.register(dto);
  }

  @Public()
  @AuthRateLimit()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in; opens a session (one per device login)' })
  @ApiOkResponse({ type: AuthTokensDto })
  login(@Body() dto: LoginDto): Promise<AuthTokensDto> {
    return this.auth.login(dto);
  }

  @Public()
  @AuthRateLimit()
  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate the refresh token',
    description: 'Every refresh token works once. Presenting a used one again revokes its whole session.',
  })
  @ApiOkResponse({ type: AuthTokensDto })
  refresh(@Body() dto: RefreshTokenDto): Promise<AuthTokensDto> {
    return this.auth.refresh(dto.refresh_token);
  }

  @Public()
  @AuthRateLimit()
  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'End the session of a refresh token (idempotent)' })
  @ApiNoContentResponse()
  logout(@Body() dto: RefreshTokenDto): Promise<void> {
    return this.auth.logout(dto.refresh_token);
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiSecurity('api_key')
  @ApiOperation({ summary: 'The signed-in account, with its tier read fresh from the database' })
  @ApiOkResponse({ type: UserProfileDto })
  me(@CurrentUser() user: AuthUser): UserProfileDto {
    return { id: user.id, email: user.email, tier: user.tier, role: user.role };
  }

  @Get('sessions')
  @ApiBearerAuth()
  @ApiSecurity('api_key')
  @ApiOperation({ summary: 'Active sessions (devices) of the account' })
  @ApiOkResponse({ type: SessionListDto })
  async sessions(@CurrentUser() user: AuthUser): Promise<SessionListDto> {
    return { sessions: await this.auth.listSessions(user) };
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiSecurity('api_key')
  @ApiOperation({ summary: 'Revoke a session: its refresh and access tokens stop working' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  deleteSession(@CurrentUser() user: AuthUser, @Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    return this.auth.deleteSession(user, id);
  }

  @Post('api-keys')
  @ApiBearerAuth()
  @ApiSecurity('api_key')
  @ApiOperation({ summary: 'Create an API key; the key is in this response only' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  createApiKey(@CurrentUser() user: AuthUser, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    return this.apiKeys.create(user, dto.name);
  }

  @Get('api-keys')
  @ApiBearerAuth()
  @ApiSecurity('api_key')
  @ApiOperation({ summary: 'API keys of the account (never the keys themselves)' })
  @ApiOkResponse({ type: ApiKeyListDto })
  async listApiKeys(@CurrentUser() user: AuthUser): Promise<ApiKeyListDto> {
    return { api_keys: await this.apiKeys.list(user) };
  }

  @Delete('api-keys/:id')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiSecurity('api_key')
  @ApiOperation({ summary: 'Revoke an API key' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  revokeApiKey(@CurrentUser() user: AuthUser, @Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    return this.apiKeys.revoke(user, id);
  }
}
