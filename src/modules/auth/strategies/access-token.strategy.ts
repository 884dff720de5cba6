import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { createSecretKey, type KeyObject } from 'node:crypto';
import passport from 'passport';
import { Strategy } from 'passport-jwt';
import { AppConfig } from '../../../config/app-config.js';
import { type AccessTokenPayload, type AuthUser, JWT_AUDIENCE, JWT_ISSUER } from '../auth.types.js';
import { PrincipalService } from '../principal.service.js';
import { accessTokenFrom } from './headers.js';
import type { Refusal } from './refusal.js';

export const ACCESS_TOKEN_STRATEGY = 'jwt';

/** How many verified access tokens are remembered (the oldest is forgotten first). */
const VERIFIED_TOKENS_KEPT = 10_000;

/** HS256 only (no `none`, no RS/ES confusion), our issuer and audience; expiry checked. */
const TOKEN_CHECKS = { algorithms: ['HS256' as const], issuer: JWT_ISSUER, audience: JWT_AUDIENCE };

/** A verified access token's claims, or why it did not verify. */
export type VerifiedToken = { payload: AccessTokenPayload } | { failure: 'expired' | 'invalid' };

/** What the strategy concludes from verified claims: the principal, or why not. */
type Verdict = AuthUser | [false, Refusal];

/**
 * Access tokens (`Authorization: Bearer <token>`), through passport-jwt; the
 * principal is read fresh from the database on every request (PrincipalService:
 * a live session, an enabled account, the tier of this moment).
 *
 * Tokens whose signature and claims verified are remembered with their claims:
 * a client sends the same token on every request until it expires, and checking
 * the signature again tells nothing new. Only the token's own verdict is kept
 * (its expiry is still checked every time); a remembered token skips
 * passport-jwt's verification, any other goes through it.
 */
@Injectable()
export class AccessTokenStrategy extends PassportStrategy(Strategy, ACCESS_TOKEN_STRATEGY) {
  /** A KeyObject, not the string: given a string, jsonwebtoken first tries (and fails) to parse it
   * as a public key on every verification, which costs more than the rest. */
  private readonly key: KeyObject;
  private readonly verified = new Map<string, AccessTokenPayload>();

  constructor(
    config: AppConfig,
    private readonly jwt: JwtService,
    private readonly principals: PrincipalService,
  ) {
    const key = createSecretKey(Buffer.from(config.jwt.secret, 'utf8'));
    super({
      jwtFromRequest: (req: Request) => accessTokenFrom(req.headers),
      secretOrKey: key as unknown as string,
      ...TOKEN_CHECKS,
      ignoreExpiration: false,
      passReqToCallback: true,
    });
    this.key = key;
  }

  /**
   * Not the process-wide passport instance @nestjs/passport registers on: each
   * application runs its strategies on its own (AuthPassport), so two apps in
   * one process (the e2e tests run several) never answer with each other's
   * database or secret.
   */
  getPassportInstance(): passport.PassportStatic {
    return new passport.Passport() as passport.PassportStatic;
  }

  /** Passport's entry point (called on a per-request copy of the strategy). */
  override authenticate(req: Request, options?: unknown): void {
    const token = accessTokenFrom(req.headers);
    const known = token === null ? undefined : this.remembered(token);
    if (!known) return super.authenticate(req, options);
    this.principalOf(known).then(
      (verdict) => (Array.isArray(verdict) ? this.fail(verdict[1], 401) : this.success(verdict)),
      (err: Error) => this.error(err),
    );
  }

  /** passport-jwt's callback, once it has verified a token: remembers it, then finds its principal. */
  async validate(req: Request, payload: AccessTokenPayload): Promise<Verdict> {
    const token = accessTokenFrom(req.headers);
    if (token !== null) this.remember(token, payload);
    return this.principalOf(payload);
  }

  /**
   * A token's verdict without a request (a socket's token, checked before its
   * upgrade completes): synchronous, and remembered like passport-jwt's.
   */
  verify(token: string): VerifiedToken {
    const known = this.verified.get(token);
    if (known) return this.remembered(token) ? { payload: known } : { failure: 'expired' };
    let payload: AccessTokenPayload;
    try {
      payload = this.jwt.verify<AccessTokenPayload>(token, {
        secret: this.key as unknown as string,
        ...TOKEN_CHECKS,
      });
    } catch (err) {
      return { failure: (err as Error).name === 'TokenExpiredError' ? 'expired' : 'invalid' };
    }
    this.remember(token, payload);
    return { payload };
  }

  /** The claims of a remembered token that has not expired; an expired one is forgotten. */
  private remembered(token: string): AccessTokenPayload | undefined {
    const known = this.verified.get(token);
    if (!known) return undefined;
    if (Date.now() < (known.exp ?? 0) * 1000) return known;
    this.verified.delete(token);
    return undefined;
  }

  private remember(token: string, payload: AccessTokenPayload): void {
    if (typeof payload.exp !== 'number' || this.verified.has(token)) return;
    if (this.verified.size >= VERIFIED_TOKENS_KEPT) {
      this.verified.delete(this.verified.keys().next().value as string);
    }
    this.verified.set(token, payload);
  }

  /** The principal of verified claims: not when they are not an access token's or the session has ended. */
  private async principalOf(payload: AccessTokenPayload): Promise<Verdict> {
    if (payload.typ !== 'access' || typeof payload.sub !== 'string' || typeof payload.sid !== 'string') {
      return [false, 'not_access_token'];
    }
    const user = await this.principals.forAccessToken(payload.sub, payload.sid);
    return user ?? [false, 'session_ended'];
  }
}
