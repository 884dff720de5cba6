import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { IncomingHttpHeaders } from 'node:http';
import { createSecretKey, type KeyObject } from 'node:crypto';
import type { AppException } from '../../common/errors/app.exception.js';
import { AuthFailureLimiter, type AttemptSource } from '../../common/rate-limit/auth-failure-limiter.js';
import { AppConfig } from '../../config/app-config.js';
import { AuthException } from './auth.errors.js';
import {
  type AccessTokenPayload,
  API_KEY_PREFIX,
  type AuthUser,
  JWT_AUDIENCE,
  JWT_ISSUER,
} from './auth.types.js';
import { PrincipalService } from './principal.service.js';

/** An API key is never longer; a longer one is refused before any hashing or lookup. */
const MAX_API_KEY_LENGTH = 200;

/** How many verified access tokens are remembered (the oldest is forgotten first). */
const VERIFIED_TOKENS_KEPT = 10_000;

/** A verified access token's claims, or why it did not verify. */
export type VerifiedToken = { payload: AccessTokenPayload } | { failure: 'expired' | 'invalid' };

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive), or undefined. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^\s*(\S+)\s+(\S+)/.exec(headers.authorization ?? '');
  return match && match[1].toLowerCase() === 'bearer' ? match[2] : undefined;
}

/** The part of an API key its owner sees in the key list (and that failed attempts are counted by). */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, 8);
}

/** An API key from `X-API-Key`, or from `Authorization: Bearer adv_…`. */
export function apiKeyFrom(headers: IncomingHttpHeaders): string | undefined {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  const auth = headers.authorization;
  if (auth?.startsWith('Bearer ') && auth.slice(7).startsWith(API_KEY_PREFIX)) return auth.slice(7);
  return undefined;
}

/**
 * Credentials to principal, for HTTP requests and socket handshakes alike:
 * an access token (HS256 only, no `none`, no RS/ES confusion; our issuer and
 * audience; typ=access; a live session) or an API key (active, owner enabled).
 * The principal is read fresh from the database on every call (PrincipalService).
 */
@Injectable()
export class CredentialsService {
  /** A KeyObject, not the string: given a string, jsonwebtoken first tries (and fails) to parse it
   * as a public key on every verification, which costs more than the rest. */
  private readonly key: KeyObject;
  /**
   * Tokens whose signature and claims verified, with their claims: a client
   * sends the same token on every request until it expires, and checking
   * the signature again tells nothing new. Only the token's own verdict is
   * kept (its expiry is still checked every time); the session and the tier
   * are read from the database on every request.
   */
  private readonly verified = new Map<string, AccessTokenPayload>();

  constructor(
    private readonly jwt: JwtService,
    private readonly principals: PrincipalService,
    private readonly failures: AuthFailureLimiter,
    config: AppConfig,
  ) {
    this.key = createSecretKey(Buffer.from(config.jwt.secret, 'utf8'));
  }

  verifyAccessToken(token: string): VerifiedToken {
    const known = this.verified.get(token);
    if (known) {
      if (Date.now() < (known.exp ?? 0) * 1000) return { payload: known };
      this.verified.delete(token);
      return { failure: 'expired' };
    }
    let payload: AccessTokenPayload;
    try {
      payload = this.jwt.verify<AccessTokenPayload>(token, {
        secret: this.key as unknown as string,
        algorithms: ['HS256'],
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
      });
    } catch (err) {
      return { failure: (err as Error).name === 'TokenExpiredError' ? 'expired' : 'invalid' };
    }
    this.remember(token, payload);
    return { payload };
  }

  private remember(token: string, payload: AccessTokenPayload): void {
    if (typeof payload.exp !== 'number') return;
    if (this.verified.size >= VERIFIED_TOKENS_KEPT) {
      this.verified.delete(this.verified.keys().next().value as string);
    }
    this.verified.set(token, payload);
  }

  /**
   * A request's principal: a verified access token first, else an API key.
   * Throws 401 `unauthenticated` (missing or invalid credentials), `token_expired`
   * or `session_ended`; a failure to read the database is not a 401. Refused
   * credentials count against the client address's failure limit (see
   * `attempt`); `addressOf` is only called then (a valid token costs nothing).
   */
  forRequest(headers: IncomingHttpHeaders, addressOf: () => string): Promise<AuthUser> {
    const token = bearerToken(headers);
    const verified = token && !token.startsWith(API_KEY_PREFIX) ? this.verifyAccessToken(token) : undefined;
    if (verified && 'payload' in verified) {
      return this.attempt(
        () => ({ address: addressOf() }),
        () => this.forAccessToken(verified.payload),
      );
    }
    const key = apiKeyFrom(headers);
    if (!key && !headers.authorization && !headers['x-api-key']) {
      // Nothing was tried, nothing is counted: a client that forgot its credentials costs no lookup.
      throw new AuthException(
        'unauthenticated',
        'Missing credentials: send Authorization: Bearer <access token or API key>, or X-API-Key',
      );
    }
    const source = { address: addressOf(), keyPrefix: key && apiKeyPrefix(key) };
    const refusal = this.failures.refusal(source);
    if (refusal) throw refusal;
    return this.attempt(
      () => source,
      () => (key ? this.forApiKey(key) : this.refuseToken(verified)),
    );
  }

  /**
   * The principal of a socket's token (Socket.IO `auth.token`, the WebSocket's
   * `?token=`: an access token or an API key), under the same failure limit
   * as REST. Throws 429 `rate_limited` when `address` is past it.
   */
  forSocketToken(
    token: string | undefined,
    address: string,
    authenticate: (token: string | undefined) => Promise<AuthUser>,
  ): Promise<AuthUser> {
    // A missing token is refused without a lookup, and not counted (as a REST request without credentials).
    if (!token) return authenticate(token);
    const refusal = this.socketRefusal(token, address);
    if (refusal) return Promise.reject(refusal);
    const keyPrefix = token.startsWith(API_KEY_PREFIX) ? apiKeyPrefix(token) : undefined;
    return this.attempt(
      () => ({ address, keyPrefix }),
      () => authenticate(token),
    );
  }

  /**
   * The 429 that refuses a socket's token before it is looked up (its address
   * or key prefix is past the failure limit), or undefined. Synchronous, for
   * an upgrade to be refused before it completes.
   */
  socketRefusal(token: string | undefined, address: string): AppException | undefined {
    if (!token) return undefined;
    const keyPrefix = token.startsWith(API_KEY_PREFIX) ? apiKeyPrefix(token) : undefined;
    const refusal = this.failures.refusal({ address, keyPrefix });
    if (!refusal || keyPrefix) return refusal;
    return 'payload' in this.verifyAccessToken(token) ? undefined : refusal;
  }

  /**
   * Runs one authentication attempt; a refusal of its credentials (401) is
   * counted, and answered 429 instead when it passes a limit.
   *
   * Who is refused once an address is past its limit: everything whose check
   * would need a hash and a database lookup (API keys, tokens that do not
   * verify). An access token whose signature verifies is still let through
   * (checking it costs no I/O), so a user sharing an address with a client
   * that keeps failing (an office or a carrier's NAT) still gets in.
   */
  private async attempt(
    sourceOf: () => AttemptSource,
    authenticate: () => Promise<AuthUser>,
  ): Promise<AuthUser> {
    try {
      return await authenticate();
    } catch (err) {
      if (!(err instanceof AuthException)) throw err;
      throw (await this.failures.failed(sourceOf())) ?? err;
    }
  }

  private refuseToken(verified: VerifiedToken | undefined): Promise<never> {
    if (verified && 'failure' in verified && verified.failure === 'expired') {
      return Promise.reject(
        new AuthException(
          'token_expired',
          'Access token expired: get a new one with POST /api/v1/auth/refresh',
        ),
      );
    }
    return Promise.reject(new AuthException('unauthenticated', 'Invalid credentials'));
  }

  /** The principal of verified claims; 401 when they are not an access token's or the session has ended. */
  async forAccessToken(payload: AccessTokenPayload): Promise<AuthUser> {
    if (payload.typ !== 'access' || typeof payload.sub !== 'string' || typeof payload.sid !== 'string') {
      throw new AuthException('unauthenticated', 'Not an access token');
    }
    const user = await this.principals.forAccessToken(payload.sub, payload.sid);
    if (!user) throw new AuthException('session_ended', 'The session has ended or the account is disabled');
    return user;
  }

  /** The owner of an API key; 401 when it is unknown, revoked or its owner disabled. */
  async forApiKey(key: string): Promise<AuthUser> {
    if (key.length > MAX_API_KEY_LENGTH) throw new AuthException('unauthenticated', 'Invalid API key');
    const user = await this.principals.forApiKey(key);
    if (!user) throw new AuthException('unauthenticated', 'Invalid or revoked API key');
    return user;
  }
}
