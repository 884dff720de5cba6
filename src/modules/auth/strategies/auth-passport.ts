import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { IncomingMessage } from 'node:http';
import passport from 'passport';
import type { AuthUser } from '../auth.types.js';
import { ACCESS_TOKEN_STRATEGY, AccessTokenStrategy } from './access-token.strategy.js';
import { API_KEY_STRATEGY, ApiKeyStrategy } from './api-key.strategy.js';
import { type Refusal, refusalOf } from './refusal.js';

/** The strategies, in the order they are tried: an access token first, then an API key. */
const STRATEGIES = [ACCESS_TOKEN_STRATEGY, API_KEY_STRATEGY];

/** A run of the strategy chain: the principal, or why the credentials were refused. */
export type Authentication = { user: AuthUser } | { refusal: Refusal };

/**
 * This application's passport: its own Authenticator with the two strategies,
 * run by the HTTP guard (CredentialsService) and the socket handshakes alike.
 * Not the process-wide instance @nestjs/passport's AuthGuard uses: several apps
 * in one process (tests) would share whichever strategies registered last.
 */
@Injectable()
export class AuthPassport {
  private readonly passport = new passport.Passport();

  constructor(accessTokens: AccessTokenStrategy, apiKeys: ApiKeyStrategy) {
    this.passport.use(ACCESS_TOKEN_STRATEGY, accessTokens);
    this.passport.use(API_KEY_STRATEGY, apiKeys);
  }

  /**
   * Runs the strategies on a request's headers: the first that finds a
   * principal wins. Rejects only when checking failed (the database, say),
   * which is ours and not the client's.
   */
  authenticate(req: IncomingMessage): Promise<Authentication> {
    return new Promise((resolve, reject) => {
      const run = this.passport.authenticate(
        STRATEGIES,
        { session: false },
        (err: unknown, user: AuthUser | false, failures: unknown) => {
          if (err) reject(err instanceof Error ? err : new Error('Authentication failed', { cause: err }));
          else resolve(user ? { user } : { refusal: refusalOf(failures) });
        },
      ) as (req: Request, res: unknown, next: (err?: unknown) => void) => void;
      // `next` only hears of a misconfigured chain (an unknown strategy): with a callback, passport answers through it.
      run(req as Request, undefined, (err) =>
        reject(
          err instanceof Error ? err : new Error('Authentication passed without a verdict', { cause: err }),
        ),
      );
    });
  }
}
