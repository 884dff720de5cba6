import { Body, Controller, Delete, Get, HttpCode, Param, Put, Req } from '@nestjs/common';
import {
  ApiFoundResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { ApiUuidParam } from '../../common/decorators/api-uuid-param.decorator.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { UuidPipe } from '../../common/input/uuid.pipe.js';
import { AuthTokensDto } from '../auth/index.js';
import {
  AuthorizationUrlDto,
  ConfigureSsoDto,
  ExchangeCodeDto,
  LinkAccountDto,
  SsoConnectionDto,
  StartSsoDto,
} from './dto/sso.dto.js';
import { OidcSignInService } from './oidc-sign-in.service.js';
import {
  SIGN_IN_REDIRECT_RESPONSE,
  SignInCallbackRoute,
  SignInExchangeRoute,
  SignInLinkRoute,
  SignInStartRoute,
} from './sign-in-routes.decorators.js';
import { SsoConnectionsService } from './sso-connections.service.js';

/** The query string as the provider sent it (openid-client checks every parameter, `iss` included). */
export const rawQuery = (req: Request): URLSearchParams =>
  new URLSearchParams(req.originalUrl.split('?')[1] ?? '');

@ApiTags('teams')
@Controller('teams/:id/sso')
export class SsoConnectionsController {
  constructor(private readonly connections: SsoConnectionsService) {}

  @Put()
  @ApiUuidParam()
  @ApiOperation({
    summary: "Configure the team's OpenID Connect identity provider (owner only)",
    description:
      "The issuer's discovery document and JWKS are fetched and checked now; a bad issuer is 400 " +
      'sso_issuer_invalid and nothing is saved. The client secret is stored encrypted and never returned. ' +
      'Register PUBLIC_URL/api/v1/auth/sso/callback as the redirect URI at the provider.',
  })
  @ApiOkResponse({ type: SsoConnectionDto })
  @ApiErrors(
    { status: 400, description: 'Invalid body, or the issuer cannot be used (code sso_issuer_invalid)' },
    { status: 403, description: 'Not the team owner (code role_required)' },
    404,
    { status: 409, description: "A domain is another team's already (code duplicate, `domains`)" },
    {
      status: 503,
      description: 'SSO_ENCRYPTION_KEY is not set on this server (code feature_not_configured)',
    },
  )
  configureSso(
    @CurrentUser() user: AuthUser,
    @Param('id', UuidPipe) teamId: string,
    @Body() dto: ConfigureSsoDto,
  ): Promise<SsoConnectionDto> {
    return this.connections.configure(user.id, teamId, dto);
  }

  @Get()
  @ApiUuidParam()
  @ApiOperation({
    summary: "The team's identity provider (owners and admins; never the client secret)",
    description: 'A team without single sign-on, or one the account is not a member of, is 404.',
  })
  @ApiOkResponse({ type: SsoConnectionDto })
  @ApiErrors(
    { status: 403, description: 'A member without the owner or admin role (code role_required)' },
    404,
  )
  getSso(@CurrentUser() user: AuthUser, @Param('id', UuidPipe) teamId: string): Promise<SsoConnectionDto> {
    return this.connections.get(user.id, teamId);
  }

  @Delete()
  @HttpCode(204)
  @ApiUuidParam()
  @ApiOperation({
    summary: "Remove the team's identity provider (owner only)",
    description: 'Its domains are free again; accounts made by single sign-on keep their team membership.',
  })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors({ status: 403, description: 'Not the team owner (code role_required)' }, 404)
  deleteSso(@CurrentUser() user: AuthUser, @Param('id', UuidPipe) teamId: string): Promise<void> {
    return this.connections.remove(user.id, teamId);
  }
}

@ApiTags('auth')
@Controller('auth/sso')
export class SsoSignInController {
  constructor(private readonly signIn: OidcSignInService) {}

  @SignInStartRoute(
    {
      summary: "Begin a sign-in through the team's identity provider",
      description:
        'Give the email (its domain finds the team) or the team_id, and the redirect_uri the browser returns ' +
        'to with a one-time code. Open authorization_url in a browser: code flow with PKCE, state and nonce, ' +
        'valid 10 minutes, once.',
    },
    { status: 404, description: 'No team signs in with SSO for this email domain or team id' },
    {
      status: 503,
      description: 'SSO_ENCRYPTION_KEY is not set on this server (code feature_not_configured)',
    },
  )
  @ApiOkResponse({ type: AuthorizationUrlDto })
  startSso(@Body() dto: StartSsoDto): Promise<AuthorizationUrlDto> {
    return this.signIn.start(dto);
  }

  @SignInCallbackRoute({
    code: "The provider's authorization code",
    summary: "The identity provider's redirect back (a browser follows it; clients never call it)",
    description:
      'Checks the state, trades the code, verifies the ID token and provisions the account (joining the team ' +
      "within its seats), then redirects to the client's redirect_uri with `code`, or with `error` (a code: " +
      'id_token_invalid, email_unverified, seats_exhausted, sso_failed, …) and `error_description`.',
  })
  @ApiFoundResponse(SIGN_IN_REDIRECT_RESPONSE)
  async ssoCallback(@Req() req: Request): Promise<{ url: string; statusCode: number }> {
    return { url: await this.signIn.callback(rawQuery(req)), statusCode: 302 };
  }

  @SignInExchangeRoute(
    'Once, within 2 minutes. An existing password account not linked yet answers 409 link_required: ' +
      'send its password with the same code to POST /auth/sso/link.',
  )
  @ApiOkResponse({ type: AuthTokensDto })
  exchangeSsoCode(@Body() dto: ExchangeCodeDto): Promise<AuthTokensDto> {
    return this.signIn.exchange(dto);
  }

  @SignInLinkRoute(
    {
      summary: 'Link an existing account to its single sign-on with its password (once), and sign in',
      description:
        'For a code whose exchange answered 409 link_required. A wrong password is 401 invalid_credentials; ' +
        'the fifth wrong one uses the code up.',
    },
    { status: 402, description: 'Every seat of the team is taken (code seats_exhausted)' },
  )
  @ApiOkResponse({ type: AuthTokensDto })
  linkSsoAccount(@Body() dto: LinkAccountDto): Promise<AuthTokensDto> {
    return this.signIn.link(dto);
  }
}
