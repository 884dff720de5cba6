import { Body, Controller, Get, HttpCode, Post, Redirect, Req } from '@nestjs/common';
import { ApiFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AuthRateLimit } from '../../common/decorators/access.decorators.js';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { BodyLimit } from '../../common/http/body-limit.decorator.js';
import { AuthTokensDto } from '../auth/index.js';
import { AuthorizationUrlDto, ExchangeCodeDto, LinkAccountDto, StartOAuthDto } from './dto/sso.dto.js';
import { GithubSignInService } from './github-sign-in.service.js';
import { rawQuery, SIGN_IN_BODY_LIMIT } from './sso.controller.js';

const NOT_CONFIGURED = {
  status: 503,
  description: 'GitHub sign-in is not configured on this server (code feature_not_configured)',
} as const;

@ApiTags('auth')
@Controller('auth/oauth/github')
export class GithubSignInController {
  constructor(private readonly github: GithubSignInService) {}

  @Public()
  @AuthRateLimit()
  @Post('start')
  @BodyLimit(SIGN_IN_BODY_LIMIT)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Begin a sign-in with GitHub',
    description:
      'Open authorization_url in a browser (OAuth with PKCE and state, valid 10 minutes, once); it returns ' +
      'to redirect_uri with a one-time code.',
  })
  @ApiOkResponse({ type: AuthorizationUrlDto })
  @ApiErrors(
    {
      status: 400,
      description: 'Invalid body, or the redirect_uri is not allowed (code redirect_uri_not_allowed)',
    },
    NOT_CONFIGURED,
  )
  startGithubSignIn(@Body() dto: StartOAuthDto): Promise<AuthorizationUrlDto> {
    return this.github.start(dto);
  }

  @Public()
  @AuthRateLimit()
  @Get('callback')
  @Redirect()
  @ApiQuery({ name: 'code', required: false, description: "GitHub's authorization code" })
  @ApiQuery({ name: 'state', required: true, description: 'The state of the sign-in' })
  @ApiOperation({
    summary: "GitHub's redirect back (a browser follows it; clients never call it)",
    description:
      "Trades the code, reads GitHub's verified primary email, finds or makes the account, then redirects to " +
      "the client's redirect_uri with `code`, or with `error` (email_unverified, sso_required, sso_failed).",
  })
  @ApiFoundResponse({
    description: "To the client's redirect_uri with ?code= or ?error=&error_description=",
    headers: {
      Location: {
        description: "The client's redirect_uri with its code or error",
        schema: { type: 'string' },
      },
    },
  })
  @ApiErrors(
    { status: 400, description: 'The state is unknown, altered, used or expired (code sso_state_invalid)' },
    NOT_CONFIGURED,
  )
  async githubCallback(@Req() req: Request): Promise<{ url: string; statusCode: number }> {
    return { url: await this.github.callback(rawQuery(req)), statusCode: 302 };
  }

  @Public()
  @AuthRateLimit()
  @Post('exchange')
  @BodyLimit(SIGN_IN_BODY_LIMIT)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Trade the one-time code from the redirect for AuthTokens (as /auth/login)',
    description:
      'Once, within 2 minutes. When a password account has GitHub’s email and is not linked yet: 409 ' +
      'link_required; send its password with the same code to POST /auth/oauth/github/link.',
  })
  @ApiOkResponse({ type: AuthTokensDto })
  @ApiErrors(
    { status: 400, description: 'Unknown, used or expired code (code sso_code_invalid)' },
    { status: 403, description: 'The account is disabled (code forbidden)' },
    { status: 409, description: 'The account must be linked with its password first (code link_required)' },
  )
  exchangeGithubCode(@Body() dto: ExchangeCodeDto): Promise<AuthTokensDto> {
    return this.github.exchange(dto);
  }

  @Public()
  @AuthRateLimit()
  @Post('link')
  @BodyLimit(SIGN_IN_BODY_LIMIT)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Link an existing password account to GitHub with its password (once), and sign in',
    description:
      'For a code whose exchange answered 409 link_required. Later GitHub sign-ins need no password. A wrong ' +
      'password is 401 invalid_credentials; the fifth wrong one uses the code up.',
  })
  @ApiOkResponse({ type: AuthTokensDto })
  @ApiErrors({ status: 400, description: 'Unknown, used or expired code (code sso_code_invalid)' })
  linkGithubAccount(@Body() dto: LinkAccountDto): Promise<AuthTokensDto> {
    return this.github.link(dto);
  }
}
