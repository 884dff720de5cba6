import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { IncomingHttpHeaders } from 'node:http';
import { AppException } from '../../common/errors/app.exception.js';
import { clientAddress } from '../../common/http/client-address.js';
import { AuthFailureLimiter, type AttemptSource } from '../../common/rate-limit/auth-failure-limiter.js';
import { AuthException } from './auth.errors.js';
import { API_KEY_PREFIX, type AuthUser } from './auth.types.js';
import { AccessTokenStrategy } from './strategies/access-token.strategy.js';
import { AuthPassport } from './strategies/auth-passport.js';
import { apiKeyFrom, apiKeyPrefix } from './strategies/headers.js';
import type { Refusal } from './strategies/refusal.js';

export { apiKeyFrom, apiKeyPrefix, bearerToken } from './strategies/headers.js';

/** The 401 a REST client gets for each refusal of the strategies. */
function restRefusal(refusal: Refusal): AuthException {
  switch (refusal) {
    case 'expired':
      return new AuthException(
        'token_expired',
        'Access token expired: get a new one with POST /api/v1/auth/refresh',
      );
    case 'not_access_token':
      return new AuthException('unauthenticated', 'Not an access token');
    case 'session_ended':
      return new AuthException('session_ended', 'The session has ended or the account is disabled');
    case 'api_key_too_long':
      return new AuthException('unauthenticated', 'Invalid API key');
    case 'api_key_unknown':
      return new AuthException('unauthenticated', 'Invalid or revoked API key');
    case 'invalid':
      return new AuthException('unauthenticated', 'Invalid credentials');
  }
}

/** A header sent with a value (an empty one counts as not sent). */
function sent(value: string | string[] | undefined): boolean {
  return value !== undefined && value.length > 0;
}

/**
 * Credentials to principal, around the passport strategies (AuthPassport: an
 * access token, else an API key): what is refused before they run (no
 * credentials, two credentials, an address or key prefix past the
 * failed-authentication limit) and what a refusal costs (it is counted; 429
 * past the limit). For HTTP requests and socket handshakes alike.
 */
@Injectable()
export class CredentialsService {
  constructor(
    private readonly passport: AuthPassport,
    private readonly accessTokens: AccessTokenStrategy,
    private readonly failures: AuthFailureLimiter,
  ) {}

  /**
   * A request's principal. Throws 400 `validation_failed` when it sends both an
   * Authorization and an X-API-Key header (which principal acts must never be
   * a guess), 401 `unauthenticated` (missing or invalid credentials),
   * `token_expired` or `session_ended`; a failure to read the database is not
   * a 401. Refused credentials count against the client address's failure
   * limit; the address is only worked out then, or for an API key (a valid
   * token costs nothing for it).
   */
  async forRequest(req: Request): Promise<AuthUser> {
    const key = this.presented(req.headers);
    let source: AttemptSource | undefined;
    if (key) {
      // Refused before its hash and lookup when its address or prefix is past the limit.
      source = { address: clientAddress(req), keyPrefix: apiKeyPrefix(key) };
      const refusal = this.failures.refusal(source);
      if (refusal) throw refusal;
    }
    const outcome = await this.passport.authenticate(req);
    if ('user' in outcome) return outcome.user;
    source ??= { address: clientAddress(req) };
    if (outcome.refusal === 'expired' || outcome.refusal === 'invalid') {
      // A token that did not verify, from an address past the limit: 429, not counted again.
      const refusal = this.failures.refusal(source);
      if (refusal) throw refusal;
    }
    throw (await this.failures.failed(source)) ?? restRefusal(outcome.refusal);
  }

  /** The API key a request sends, if any; throws when it sends no credentials or two. */
  private presented(headers: IncomingHttpHeaders): string | undefined {
    const authorization = sent(headers.authorization);
    const xApiKey = sent(headers['x-api-key']);
    if (authorization && xApiKey) {
      throw new AppException(
        'validation_failed',
        'Two credentials: send either Authorization or X-API-Key, not both (the principal acting must be unambiguous)',
      );
    }
    if (!authorization && !xApiKey) {
      // Nothing was tried, nothing is counted: a client that forgot its credentials costs no lookup.
      throw new AuthException(
        'unauthenticated',
        'Missing credentials: send Authorization: Bearer <access token or API key>, or X-API-Key',
      );
    }
    return apiKeyFrom(headers);
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
   *
   * Who is refused once an address is past its limit: everything whose check
   * would need a hash and a database lookup (API keys, tokens that do not
   * verify). An access token whose signature verifies is still let through
   * (checking it costs no I/O), so a user sharing an address with a client
   * that keeps failing (an office or a carrier's NAT) still gets in.
   */
  socketRefusal(token: string | undefined, address: string): AppException | undefined {
    if (!token) return undefined;
    const keyPrefix = token.startsWith(API_KEY_PREFIX) ? apiKeyPrefix(token) : undefined;
    const refusal = this.failures.refusal({ address, keyPrefix });
    if (!refusal || keyPrefix) return refusal;
    return 'payload' in this.accessTokens.verify(token) ? undefined : refusal;
  }

  /**
   * Runs one authentication attempt; a refusal of its credentials (401) is
   * counted, and answered 429 instead when it passes a limit.
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
}
