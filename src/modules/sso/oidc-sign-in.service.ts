import { Injectable } from '@nestjs/common';
import { AppException } from '../../common/errors/app.exception.js';
import { type Tx, UnitOfWork } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import type { AuthTokensDto } from '../auth/index.js';
import { TeamsService } from '../teams/index.js';
import type { AuthorizationUrlDto, ExchangeCodeDto, LinkAccountDto, StartSsoDto } from './dto/sso.dto.js';
import type { SsoConnection } from './entities/sso-connection.entity.js';
import type { SignInAttempt } from './entities/sign-in-attempt.entity.js';
import { OidcRelyingParty, type VerifiedIdentity } from './oidc-relying-party.js';
import { SecretCipher } from './secret-cipher.js';
import { type ResumedAttempt, SignInFlow, type VouchedIdentity } from './sign-in-flow.service.js';
import { domainOf, SsoConnectionsService } from './sso-connections.service.js';
import { SsoException } from './sso.errors.js';

export const SSO_CALLBACK_PATH = 'auth/sso/callback';

/**
 * Sign-in through a team's identity provider: start (PKCE, state, nonce), the provider's
 * callback (code exchange and ID token checks, then the account found or made just in time
 * and the team joined within its seats), and the one-time code traded for AuthTokens.
 */
@Injectable()
export class OidcSignInService {
  constructor(
    private readonly connections: SsoConnectionsService,
    private readonly relyingParty: OidcRelyingParty,
    private readonly cipher: SecretCipher,
    private readonly flow: SignInFlow,
    private readonly teams: TeamsService,
    private readonly audit: AuditService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async start(dto: StartSsoDto): Promise<AuthorizationUrlDto> {
    if (!dto.email === !dto.team_id) {
      throw new SsoException('validation_failed', 'Send either email or team_id (one of them)');
    }
    this.flow.assertRedirectUri(dto.redirect_uri);
    const connection = dto.email
      ? await this.connections.forEmailOrThrow(dto.email)
      : await this.connections.findOrThrow(dto.team_id!);
    const client = await this.clientOf(connection);
    const checks = await this.flow.begin('oidc', connection.teamId, dto.redirect_uri);
    const url = await this.relyingParty.authorizationUrl(
      client,
      this.flow.callbackUrl(SSO_CALLBACK_PATH),
      checks,
      dto.email,
    );
    return { authorization_url: url };
  }

  /**
   * The provider's redirect back: an unknown, altered, used or expired state is answered here
   * (400 `sso_state_invalid`: there is no client to send the browser to); anything else sends
   * the browser to the client's redirect_uri with `code`, or with `error` and nothing provisioned.
   */
  async callback(query: URLSearchParams): Promise<string> {
    const resumed = await this.flow.resume('oidc', query.get('state') ?? undefined);
    try {
      const code = await this.complete(resumed, query);
      return this.flow.redirectWithCode(resumed.attempt, code);
    } catch (err) {
      if (!(err instanceof AppException)) throw err;
      await this.audit.record({
        eventType: 'sso.sign_in_refused',
        subjectId: resumed.attempt.teamId,
        reason: err.appCode,
      });
      return this.flow.redirectWithError(resumed.attempt, err as AppException);
    }
  }

  exchange(dto: ExchangeCodeDto): Promise<AuthTokensDto> {
    return this.flow.exchange('oidc', dto.code, dto.device_name ?? null);
  }

  link(dto: LinkAccountDto): Promise<AuthTokensDto> {
    return this.flow.link('oidc', dto.code, dto.password, dto.device_name ?? null, async (tx, code) => {
      if (code.teamId) await this.teams.addMember(code.teamId, code.userId, 'member', 'sso', tx);
    });
  }

  private async complete({ attempt, checks }: ResumedAttempt, query: URLSearchParams): Promise<string> {
    const connection = await this.connections.findOrThrow(attempt.teamId!);
    const currentUrl = new URL(this.flow.callbackUrl(SSO_CALLBACK_PATH));
    currentUrl.search = query.toString();
    const verified = await this.relyingParty.verifyCallback(
      await this.clientOf(connection),
      currentUrl,
      checks,
    );
    const email = this.vouchedEmailOrThrow(connection, verified);
    const identity: VouchedIdentity = {
      provider: 'oidc',
      issuer: connection.issuer,
      subject: verified.subject,
      email,
      // A member the team admitted already (by invitation) is linked without a password.
      trustedLink: async (userId, tx) => (await this.teams.roleOf(connection.teamId, userId, tx)) !== null,
    };
    return this.unitOfWork.run((tx) => this.provision(tx, attempt, identity));
  }

  /** The account found or made, the team joined within its seats, the sign-in audited: all or nothing. */
  private async provision(tx: Tx, attempt: SignInAttempt, identity: VouchedIdentity): Promise<string> {
    const teamId = attempt.teamId!;
    const resolved = await this.flow.resolveAccount(tx, identity, 'sso');
    const joined =
      resolved.kind === 'sign_in'
        ? (await this.teams.addMember(teamId, resolved.userId, 'member', 'sso', tx)).added
        : false;
    await this.audit.record(
      {
        eventType: 'sso.sign_in',
        actorId: resolved.userId,
        subjectId: teamId,
        data: {
          account_created: resolved.kind === 'sign_in' && resolved.created,
          joined_team: joined,
          link_required: resolved.kind === 'link',
        },
      },
      tx,
    );
    return this.flow.issueCode(tx, identity, resolved, teamId);
  }

  private vouchedEmailOrThrow(connection: SsoConnection, verified: VerifiedIdentity): string {
    if (!verified.email || !verified.emailVerified) {
      throw new SsoException(
        'email_unverified',
        'The identity provider did not vouch for this email address (email_verified is not true)',
      );
    }
    const email = verified.email.trim().toLowerCase();
    if (!connection.domains.includes(domainOf(email))) {
      throw new SsoException('forbidden', "The identity provider's email is not in this team's domains");
    }
    return email;
  }

  private async clientOf(connection: SsoConnection) {
    const secret = await this.cipher.open(connection.clientSecretEncrypted);
    return this.relyingParty.client(connection.serverMetadata, connection.clientId, secret);
  }
}
