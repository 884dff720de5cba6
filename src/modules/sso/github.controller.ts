import { Body, Controller, Req } from '@nestjs/common';
import { ApiFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AuthTokensDto } from '../auth/index.js';
import { AuthorizationUrlDto, ExchangeCodeDto, LinkAccountDto, StartOAuthDto } from './dto/sso.dto.js';
import { GithubSignInService } from './github-sign-in.service.js';
import {
  SIGN_IN_REDIRECT_RESPONSE,
  SignInCallbackRoute,
  SignInExchangeRoute,
  SignInLinkRoute,
  SignInStartRoute,
} from './sign-in-routes.decorators.js';
import { rawQuery } from './sso.controller.js';

const NOT_CONFIGURED = {
  status: 503,
  description: 'GitHub sign-in is not configured on this server (code feature_not_configured)',
} as const;

@ApiTags('auth')
@Controller('auth/oauth/github')
export class GithubSignInController {
  constructor(private readonly github: GithubSignInService) {}

  @SignInStartRoute(
    {
      summary: 'Begin a sign-in with GitHub',
      description:
        'Open authorization_url in a browser (OAuth with PKCE and state, valid 10 minutes, once); it returns ' +
        'to redirect_uri with a one-time code.',
    },
    NOT_CONFIGURED,
  )
  @ApiOkResponse({ type: AuthorizationUrlDto })
  startGithubSignIn(@Body() dto: StartOAuthDto): Promise<AuthorizationUrlDto> {
    return this.github.start(dto);
  }

  @SignInCallbackRoute(
    {
      code: "GitHub's authorization code",
      summary: "GitHub's redirect back (a browser follows it; clients never call it)",
      description:
        "Trades the code, reads GitHub's verified primary email, finds or makes the account, then redirects to " +
        "the client's redirect_uri with `code`, or with `error` (email_unverified, sso_required, sso_failed).",
    },
    NOT_CONFIGURED,
  )
  @ApiFoundResponse(SIGN_IN_REDIRECT_RESPONSE)
  async githubCallback(@Req() req: Request): Promise<{ url: string; statusCode: number }> {
    return { url: await this.github.callback(rawQuery(req)), statusCode: 302 };
  }

  @SignInExchangeRoute(
    'Once, within 2 minutes. When a password account has GitHub’s email and is not linked yet: 409 ' +
      'link_required; send its password with the same code to POST /auth/oauth/github/link.',
  )
  @ApiOkResponse({ type: AuthTokensDto })
  exchangeGithubCode(@Body() dto: ExchangeCodeDto): Promise<AuthTokensDto> {
    return this.github.exchange(dto);
  }

  @SignInLinkRoute({
    summary: 'Link an existing password account to GitHub with its password (once), and sign in',
    description:
      'For a code whose exchange answered 409 link_required. Later GitHub sign-ins need no password. A wrong ' +
      'password is 401 invalid_credentials; the fifth wrong one uses the code up.',
  })
  @ApiOkResponse({ type: AuthTokensDto })
  linkGithubAccount(@Body() dto: LinkAccountDto): Promise<AuthTokensDto> {
    return this.github.link(dto);
  }
}
