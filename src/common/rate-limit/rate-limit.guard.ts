import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { AppConfig } from '../../config/app-config.js';
import type { AuthUser } from '../auth/auth-user.js';
import { AUTH_RATE_LIMIT_KEY, SKIP_RATE_LIMIT_KEY } from '../decorators/access.decorators.js';
import { RATE_LIMITS } from '../tiers/tiers.js';
import { RateLimitStore } from './rate-limit.store.js';
import { AppException } from '../errors/app.exception.js';

type Req = Request & { user?: AuthUser };

interface Limit {
  key: string;
  limit: number;
  windowMs: number;
  describe: string;
}

const MINUTE = 60_000;

/**
 * Per-principal limits by tier, read on this request (so a tier change applies
 * to the next one), and brute-force limits per IP and per account on sign-in
 * routes. Sets `RateLimit-Limit/Remaining/Reset` for the tightest limit and
 * answers 429 with `Retry-After` (seconds). Runs after authentication.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly store: RateLimitStore,
    private readonly config: AppConfig,
  ) {}

  canActivate(ctx: ExecutionContext): boolean | Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(SKIP_RATE_LIMIT_KEY, targets)) return true;
    const req = ctx.switchToHttp().getRequest<Req>();
    const limits = this.reflector.getAllAndOverride<boolean>(AUTH_RATE_LIMIT_KEY, targets)
      ? this.signInLimits(req)
      : this.config.rateLimitEnabled
        ? [this.tierLimit(req.user, req.ip)]
        : [];
    if (limits.length === 0) return true;
    return this.enforce(limits, ctx.switchToHttp().getResponse<Response>());
  }

  /** Counts the request against `limits`: their headers, and 429 past one of them. */
  private async enforce(limits: Limit[], res: Response): Promise<boolean> {
    const { tightest, exceeded } = await this.count(limits);
    if (tightest) {
      res.setHeader('RateLimit-Limit', tightest.limit);
      res.setHeader('RateLimit-Remaining', tightest.remaining);
      res.setHeader('RateLimit-Reset', Math.ceil(tightest.resetMs / 1000));
    }
    if (exceeded) {
      res.setHeader('Retry-After', exceeded.extra.retry_after as number);
      throw exceeded;
    }
    return true;
  }

  /**
   * The tier's limit for a message on a socket (Socket.IO `chat`, a WebSocket
   * frame): it counts against the same per-minute budget as the user's REST
   * requests. Throws 429 `rate_limited` (with `retry_after`) beyond it.
   */
  async consumeForUser(user: AuthUser): Promise<void> {
    if (!this.config.rateLimitEnabled) return;
    const { exceeded } = await this.count([this.tierLimit(user, undefined)]);
    if (exceeded) throw exceeded;
  }

  /** Counts one hit on each limit; the tightest for the headers and the first exceeded, as the 429 to throw. */
  private async count(limits: Limit[]): Promise<{
    tightest?: { limit: number; remaining: number; resetMs: number };
    exceeded?: AppException;
  }> {
    let tightest: { limit: number; remaining: number; resetMs: number } | undefined;
    let exceeded: { limit: Limit; resetMs: number } | undefined;
    for (const limit of limits) {
      // The store counts in this process while the shared one (Redis) is unreachable.
      const hit = await this.store.hit(limit.key, limit.windowMs);
      const remaining = Math.max(0, limit.limit - hit.count);
      if (!tightest || remaining < tightest.remaining)
        tightest = { limit: limit.limit, remaining, resetMs: hit.resetMs };
      if (hit.count > limit.limit && !exceeded) exceeded = { limit, resetMs: hit.resetMs };
    }
    if (!exceeded) return { tightest };
    const retryAfter = Math.max(1, Math.ceil(exceeded.resetMs / 1000));
    const error = new AppException('rate_limited', `${exceeded.limit.describe}; retry in ${retryAfter} s`, {
      retry_after: retryAfter,
    });
    return { tightest, exceeded: error };
  }

  private tierLimit(user: AuthUser | undefined, ip: string | undefined): Limit {
    const tier = user?.tier ?? 'free';
    return {
      key: user ? `tier:user:${user.id}` : `tier:ip:${ip}`,
      limit: RATE_LIMITS[tier],
      windowMs: MINUTE,
      describe: user
        ? `Rate limit of the ${tier} tier exceeded (${RATE_LIMITS[tier]} requests per minute)`
        : `Rate limit exceeded (${RATE_LIMITS[tier]} requests per minute per address)`,
    };
  }

  private signInLimits(req: Req): Limit[] {
    const { perIpPerMinute, perAccountPer15Minutes } = this.config.authRateLimit;
    const limits: Limit[] = [
      {
        key: `auth-ip:${req.ip}`,
        limit: perIpPerMinute,
        windowMs: MINUTE,
        describe: `Too many sign-in requests from this address (limit ${perIpPerMinute} per minute)`,
      },
    ];
    // A signed-in route that checks the password again (DELETE /account) counts against the account
    // itself, so a stolen token or API key cannot guess the password faster than sign-in allows.
    const account = accountOf(req) ?? (req.user ? hashed(`principal:${req.user.id}`) : undefined);
    // A body naming no account (email or refresh token missing or not a string) is refused by
    // validation before it can try a password or a token: only the per-address limit applies.
    // Counting all of them under one shared key would let ten malformed requests lock out
    // every other malformed one, whoever sent it.
    if (account) {
      limits.push({
        key: `auth-account:${account}`,
        limit: perAccountPer15Minutes,
        windowMs: 15 * MINUTE,
        describe: `Too many sign-in requests for this account (limit ${perAccountPer15Minutes} per 15 minutes)`,
      });
    }
    return limits;
  }
}

/**
 * The account a sign-in request is about: its email, or its refresh token;
 * hashed, never stored as is. Undefined when the body names none.
 */
function accountOf(req: Req): string | undefined {
  const body: unknown = req.body;
  if (body === null || typeof body !== 'object') return undefined;
  const { email, refresh_token: refreshToken } = body as Record<string, unknown>;
  const id = typeof email === 'string' ? email.trim().toLowerCase() : refreshToken;
  return typeof id === 'string' && id ? hashed(id) : undefined;
}

const hashed = (id: string) => createHash('sha256').update(id).digest('hex');
