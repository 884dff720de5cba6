import { type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { IS_PUBLIC_KEY } from '../../common/decorators/public.decorator.js';
import type { AuthUser } from './auth.types.js';
import { AuthException } from './auth.errors.js';

/**
 * The global guard: every route needs an access token or an API key unless it
 * is marked @Public(). Strategies are tried in order: JWT, then API key.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard(['jwt', 'api-key']) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(ctx: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (isPublic) return true;
    return super.canActivate(ctx);
  }

  override handleRequest<T = AuthUser>(
    err: unknown,
    user: T | false,
    info: unknown,
    ctx: ExecutionContext,
  ): T {
    if (user) return user;
    if (err instanceof UnauthorizedException) throw err;
    // A failure while checking credentials (the database, say) is ours, not the client's: no 401.
    if (err)
      throw err instanceof Error ? err : new Error('Authentication failed unexpectedly', { cause: err });
    const req = ctx.switchToHttp().getRequest<Request>();
    if (!req.headers.authorization && !req.headers['x-api-key']) {
      throw new AuthException(
        'unauthenticated',
        'Missing credentials: send Authorization: Bearer <access token or API key>, or X-API-Key',
      );
    }
    const infos = Array.isArray(info) ? info : [info];
    if (infos.some((i) => (i as Error | undefined)?.name === 'TokenExpiredError')) {
      throw new AuthException(
        'token_expired',
        'Access token expired: get a new one with POST /api/v1/auth/refresh',
      );
    }
    throw new AuthException('unauthenticated', 'Invalid credentials');
  }
}
