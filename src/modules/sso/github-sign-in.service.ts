import { Injectable } from '@nestjs/common';
import * as oidc from 'openid-client';
import { AppException } from '../../common/errors/app.exception.js';
import { AppConfig } from '../../config/app-config.js';
import { UnitOfWork } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import type { AuthTokensDto } from '../auth/index.js';
import type { AuthorizationUrlDto, ExchangeCodeDto, LinkAccountDto, StartOAuthDto } from './dto/sso.dto.js';
import { type ResumedAttempt, SignInFlow, type VouchedIdentity } from './sign-in-flow.service.js';
import { SsoConnectionsService } from './sso-connections.service.js';
import { SsoException } from './sso.errors.js';

export const GITHUB_CALLBACK_PATH = 'auth/oauth/github/callback';

/** Seconds one request to GitHub may take. */
const GITHUB_TIMEOUT_S = 10;

interface GithubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
}

/**
 * Sign in with GitHub (an OAuth app; OAuth 2.0 with PKCE and state, through openid-client):
 * the account is the one linked to the GitHub user, else the one with GitHub's verified
 * primary email (an existing password account is linked once with its password), else a new
 * one without a password.
 */
@Injectable()
export class GithubSignInService {
  constructor(
    private readonly config: AppConfig,
    private readonly flow: SignInFlow,
    private readonly connections: SsoConnectionsService,
    private readonly audit: AuditService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async start(dto: StartOAuthDto): Promise<AuthorizationUrlDto> {
    const client = this.clientOrThrow();
    this.flow.assertRedirectUri(dto.redirect_uri);
    const checks = await this.flow.begin('github', null, dto.redirect_uri);
    const url = oidc.buildAuthorizationUrl(client, {
      redirect_uri: this.flow.callbackUrl(GITHUB_CALLBACK_PATH),
      scope: 'read:user user:email',
      state: checks.state,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
      allow_signup: 'false',
    });
    return { authorization_url: url.href };
  }

  /** GitHub's redirect back; refusals go to the client's redirect_uri as `error` (a bad state: 400 here). */
  async callback(query: URLSearchParams): Promise<string> {
    const client = this.clientOrThrow();
    const resumed = await this.flow.resume('github', query.get('state') ?? undefined);
    try {
      return this.flow.redirectWithCode(resumed.attempt, await this.complete(client, resumed, query));
    } catch (err) {
      if (!(err instanceof AppException)) throw err;
      await this.audit.record({ eventType: 'auth.github_sign_in_refused', reason: err.appCode });
      return this.flow.redirectWithError(resumed.attempt, err as AppException);
    }
  }

  exchange(dto: ExchangeCodeDto): Promise<AuthTokensDto> {
    return this.flow.exchange('github', dto.code, dto.device_name ?? null);
  }

  link(dto: LinkAccountDto): Promise<AuthTokensDto> {
    return this.flow.link('github', dto.code, dto.password, dto.device_name ?? null, () => Promise.resolve());
  }

  private async complete(client: oidc.Configuration, { checks }: ResumedAttempt, query: URLSearchParams) {
    const currentUrl = new URL(this.flow.callbackUrl(GITHUB_CALLBACK_PATH));
    currentUrl.search = query.toString();
    const { subject, email } = await this.githubUser(client, currentUrl, checks);
    // GitHub is no way around a team's single sign-on.
    if (await this.connections.requiresSso(email)) {
      throw new SsoException('sso_required', 'Your team requires single sign-on for this email domain');
    }
    const identity: VouchedIdentity = {
      provider: 'github',
      issuer: this.config.sso.github!.baseUrl,
      subject,
      email,
    };
    return this.unitOfWork.run(async (tx) => {
      const resolved = await this.flow.resolveAccount(tx, identity, 'github');
      await this.audit.record(
        {
          eventType: 'auth.github_sign_in',
          actorId: resolved.userId,
          subjectId: resolved.userId,
          data: {
            account_created: resolved.kind === 'sign_in' && resolved.created,
            link_required: resolved.kind === 'link',
          },
        },
        tx,
      );
      return this.flow.issueCode(tx, identity, resolved, null);
    });
  }

  /** GitHub's user id and verified primary email for the callback's code. */
  private async githubUser(
    client: oidc.Configuration,
    currentUrl: URL,
    checks: ResumedAttempt['checks'],
  ): Promise<{ subject: string; email: string }> {
    let user: { id?: unknown };
    let emails: GithubEmail[];
    try {
      const tokens = await oidc.authorizationCodeGrant(client, currentUrl, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
      });
      [user, emails] = await Promise.all([
        this.api<{ id?: unknown }>(client, tokens.access_token, '/user'),
        this.api<GithubEmail[]>(client, tokens.access_token, '/user/emails'),
      ]);
    } catch (err) {
      if (err instanceof AppException) throw err;
      throw new SsoException('sso_failed', 'GitHub refused the sign-in or could not be reached: try again');
    }
    const primary = Array.isArray(emails) ? emails.find((entry) => entry.primary) : undefined;
    if (!primary || primary.verified !== true || typeof user.id !== 'number') {
      throw new SsoException(
        'email_unverified',
        'Your primary email on GitHub is not verified: verify it on GitHub first',
      );
    }
    return { subject: String(user.id), email: primary.email.trim().toLowerCase() };
  }

  private async api<T>(client: oidc.Configuration, accessToken: string, path: string): Promise<T> {
    const headers = new Headers({
      accept: 'application/vnd.github+json',
      'user-agent': 'adiuva-cloud-api',
      'x-github-api-version': '2022-11-28',
    });
    const url = new URL(`${this.config.sso.github!.apiUrl}${path}`);
    const response = await oidc.fetchProtectedResource(client, accessToken, url, 'GET', undefined, headers);
    if (!response.ok) throw new Error(`GitHub answered ${response.status} on ${path}`);
    return (await response.json()) as T;
  }

  private clientOrThrow(): oidc.Configuration {
    const github = this.config.sso.github;
    if (!github) {
      throw new SsoException(
        'feature_not_configured',
        'Sign-in with GitHub is not configured on this server (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET)',
      );
    }
    const server: oidc.ServerMetadata = {
      issuer: github.baseUrl,
      authorization_endpoint: `${github.baseUrl}/login/oauth/authorize`,
      token_endpoint: `${github.baseUrl}/login/oauth/access_token`,
    };
    const client = new oidc.Configuration(
      server,
      github.clientId,
      undefined,
      oidc.ClientSecretPost(github.clientSecret),
    );
    // The operator names GitHub's origins; http only where they chose it (a local server).
    if (github.baseUrl.startsWith('http:') || github.apiUrl.startsWith('http:'))
      oidc.allowInsecureRequests(client);
    client.timeout = GITHUB_TIMEOUT_S;
    return client;
  }
}
