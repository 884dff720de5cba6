import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { AppException } from '../../common/errors/app.exception.js';
import { API_PREFIX } from '../../common/http/api-prefix.js';
import { HttpAdapterHost } from '@nestjs/core';
import { publicOrigin } from '../../common/http/public-origin.js';
import { AppConfig } from '../../config/app-config.js';
import { isUniqueViolation } from '../../database/sql.js';
import { type Tx, UnitOfWork } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import { type AuthTokensDto, ExternalAccountsService, type SignUpVia } from '../auth/index.js';
import type { ExchangeCode } from './entities/exchange-code.entity.js';
import type { SignInAttempt, SignInProvider } from './entities/sign-in-attempt.entity.js';
import { redirectUriProblem, withParams } from './redirect-uris.js';
import { SecretCipher } from './secret-cipher.js';
import { SignInRepository } from './sign-in.repository.js';
import { SsoException } from './sso.errors.js';

/** A sign-in must come back from the provider within this. */
export const ATTEMPT_TTL_MS = 10 * 60_000;
/** The one-time code is traded at once by the client that receives it. */
export const CODE_TTL_MS = 2 * 60_000;
/** Wrong passwords one link code takes before it stops working. */
const LINK_PASSWORD_TRIES = 5;

const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex');

/** A sign-in back from the provider: its attempt, and the checks its answer is held to. */
export interface ResumedAttempt {
  attempt: SignInAttempt;
  checks: { codeVerifier: string; state: string; nonce: string };
}

/** The identity a provider vouched for, and where it signs in. */
export interface VouchedIdentity {
  provider: SignInProvider;
  issuer: string;
  subject: string;
  email: string;
  /** The account may be linked without its password (it is already a member of the signing-in team). */
  trustedLink?: (userId: string, tx: Tx) => Promise<boolean>;
}

/** How the identity maps to an account: signed in (perhaps made just now), or a link its password must confirm. */
export type ResolvedAccount =
  { kind: 'sign_in'; userId: string; created: boolean } | { kind: 'link'; userId: string };

/**
 * What team SSO and GitHub sign-in share: attempts (state, nonce and PKCE verifier, stored
 * server-side, 10 minutes, single use), the client's redirect_uri rules, matching an identity
 * to an account (by its link, else by email), and the one-time codes traded for AuthTokens.
 */
@Injectable()
export class SignInFlow {
  constructor(
    private readonly repository: SignInRepository,
    private readonly cipher: SecretCipher,
    private readonly accounts: ExternalAccountsService,
    private readonly audit: AuditService,
    private readonly unitOfWork: UnitOfWork,
    private readonly config: AppConfig,
    private readonly http: HttpAdapterHost,
  ) {}

  assertRedirectUri(redirectUri: string): void {
    const problem = redirectUriProblem(redirectUri, {
      publicOrigin: publicOrigin(this.config, this.http),
      allowlist: this.config.sso.redirectUris,
    });
    if (problem) throw new SsoException('redirect_uri_not_allowed', problem);
  }

  /** Our callback's absolute URL (what providers send the browser back to). */
  callbackUrl(path: string): string {
    return `${publicOrigin(this.config, this.http)}/${API_PREFIX}/${path}`;
  }

  /** Stores a new attempt; answers the values the authorization URL carries. */
  async begin(
    provider: SignInProvider,
    teamId: string | null,
    redirectUri: string,
  ): Promise<ResumedAttempt['checks']> {
    await this.repository.purgeExpired();
    const checks = {
      state: oidc.randomState(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      nonce: oidc.randomNonce(),
    };
    await this.repository.insertAttempt({
      stateHash: sha256Hex(checks.state),
      provider,
      teamId,
      nonce: provider === 'oidc' ? checks.nonce : null,
      codeVerifierEncrypted: await this.cipher.seal(checks.codeVerifier),
      redirectUri,
      expiresAt: new Date(Date.now() + ATTEMPT_TTL_MS),
    });
    return checks;
  }

  /** Uses up the attempt a callback's state names: 400 `sso_state_invalid` when unknown, used or expired. */
  async resume(provider: SignInProvider, state: string | undefined): Promise<ResumedAttempt> {
    const attempt = state ? await this.repository.useAttempt(sha256Hex(state), provider) : null;
    if (!attempt || !state) {
      throw new SsoException(
        'sso_state_invalid',
        'This sign-in is unknown, was completed already or is older than 10 minutes: start it again',
      );
    }
    const codeVerifier = await this.cipher.open(attempt.codeVerifierEncrypted);
    return { attempt, checks: { state, codeVerifier, nonce: attempt.nonce ?? '' } };
  }

  /**
   * The account of a vouched-for identity, inside `tx`: the one it is linked to; else the one
   * with its email, linked now when it has no password or the provider may link it, or left
   * for its password to confirm (`link`); else a new account without a password, linked.
   */
  async resolveAccount(tx: Tx, identity: VouchedIdentity, via: SignUpVia): Promise<ResolvedAccount> {
    // Everything inside `tx`: the embedded database runs one transaction at a time, and a read
    // outside it would wait for it to end.
    const linked = await this.repository.userOfIdentity(
      tx,
      identity.provider,
      identity.issuer,
      identity.subject,
    );
    const existing = linked
      ? await this.accounts.findById(linked, tx)
      : await this.accounts.findByEmail(identity.email, tx);
    if (existing?.disabled) throw new SsoException('forbidden', 'This account is disabled');
    if (linked) return { kind: 'sign_in', userId: linked, created: false };
    if (existing) {
      const trusted = !existing.hasPassword || (await identity.trustedLink?.(existing.id, tx)) === true;
      if (!trusted) return { kind: 'link', userId: existing.id };
      await this.linkIdentity(tx, identity, existing.id);
      return { kind: 'sign_in', userId: existing.id, created: false };
    }
    try {
      const created = await this.accounts.createWithoutPassword(tx, identity.email, via);
      await this.linkIdentity(tx, identity, created.id);
      return { kind: 'sign_in', userId: created.id, created: true };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      throw new SsoException(
        'sso_failed',
        'Another sign-in made this account at the same moment: start again',
      );
    }
  }

  /** A one-time code for the resolved account (inside `tx`); the client trades it at …/exchange. */
  async issueCode(
    tx: Tx,
    identity: VouchedIdentity,
    resolved: ResolvedAccount,
    teamId: string | null,
  ): Promise<string> {
    const code = randomBytes(32).toString('base64url');
    const link = resolved.kind === 'link';
    await this.repository.insertCode(tx, {
      codeHash: sha256Hex(code),
      provider: identity.provider,
      kind: resolved.kind,
      userId: resolved.userId,
      teamId,
      linkIssuer: link ? identity.issuer : null,
      linkSubject: link ? identity.subject : null,
      expiresAt: new Date(Date.now() + CODE_TTL_MS),
    });
    return code;
  }

  /** Where the browser goes when the sign-in finished: the client's redirect_uri with its code. */
  redirectWithCode(attempt: SignInAttempt, code: string): string {
    return withParams(attempt.redirectUri, { code });
  }

  /** Where the browser goes when the sign-in was refused: the client's redirect_uri with the error's code. */
  redirectWithError(attempt: SignInAttempt, err: AppException): string {
    const response = err.getResponse() as { message?: unknown };
    const message = Array.isArray(response.message) ? response.message.join('; ') : String(response.message);
    return withParams(attempt.redirectUri, { error: err.appCode, error_description: message });
  }

  /**
   * Trades a one-time sign-in code for AuthTokens (a new session): once. A `link` code answers
   * 409 `link_required` and stays valid: its account's password, at …/link, completes it.
   */
  async exchange(provider: SignInProvider, code: string, deviceName: string | null): Promise<AuthTokensDto> {
    const hash = sha256Hex(code);
    const live = await this.repository.findLiveCode(hash, provider);
    if (live?.kind === 'link') {
      throw new SsoException(
        'link_required',
        'An account with this email exists and is not linked to this sign-in yet: send its password ' +
          'once with the same code to …/link',
      );
    }
    return this.unitOfWork.run(async (tx) => {
      const used = await this.repository.useCode(tx, hash, provider);
      if (!used || used.kind !== 'sign_in') throw codeInvalid();
      return this.accounts.openSession(tx, used.userId, deviceName, signInVia(provider));
    });
  }

  /**
   * Completes a `link` code with the account's password: links the identity (audited), runs
   * `onLinked` (a team joins it), and opens a session. A wrong password is 401 and counts; the
   * fifth uses the code up.
   */
  async link(
    provider: SignInProvider,
    code: string,
    password: string,
    deviceName: string | null,
    onLinked: (tx: Tx, code: ExchangeCode) => Promise<void>,
  ): Promise<AuthTokensDto> {
    const hash = sha256Hex(code);
    const live = await this.repository.findLiveCode(hash, provider);
    if (!live || live.kind !== 'link') throw codeInvalid();
    if (!(await this.accounts.passwordMatches(live.userId, password))) {
      await this.repository.countWrongPassword(hash, LINK_PASSWORD_TRIES);
      throw new SsoException('invalid_credentials', "That is not this account's password");
    }
    return this.unitOfWork.run(async (tx) => {
      const used = await this.repository.useCode(tx, hash, provider);
      if (!used || used.kind !== 'link') throw codeInvalid();
      const identity = { provider, issuer: used.linkIssuer!, subject: used.linkSubject!, email: '' };
      await this.linkIdentity(tx, identity, used.userId);
      await onLinked(tx, used);
      return this.accounts.openSession(tx, used.userId, deviceName, signInVia(provider));
    });
  }

  private async linkIdentity(
    tx: Tx,
    identity: Pick<VouchedIdentity, 'provider' | 'issuer' | 'subject'>,
    userId: string,
  ): Promise<void> {
    const added = await this.repository.link(tx, { ...identity, userId });
    if (!added) return;
    await this.audit.record(
      {
        eventType: 'auth.identity_linked',
        actorId: userId,
        subjectId: userId,
        data: { provider: identity.provider, issuer: identity.issuer },
      },
      tx,
    );
  }
}

/** How a session opened through `provider` is remembered (team SSO is OIDC). */
function signInVia(provider: SignInProvider): SignUpVia {
  return provider === 'oidc' ? 'sso' : 'github';
}

function codeInvalid(): SsoException {
  return new SsoException(
    'sso_code_invalid',
    'This sign-in code is unknown, was used already or expired (it is valid for 2 minutes, once): sign in again',
  );
}
