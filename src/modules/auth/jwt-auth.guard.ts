import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { IS_PUBLIC_KEY } from '../../common/decorators/public.decorator.js';
import type { AuthUser } from './auth.types.js';
import { CredentialsService } from './credentials.service.js';

/**
 * The global guard: every route needs an access token or an API key unless it
 * is marked @Public(). The passport strategies run in order (an access token,
 * then an API key; see CredentialsService and strategies/); the principal
 * lands on `req.user`. Both headers at once are refused (400). It runs before
 * the body is read (the request-body guard comes next), so refused credentials
 * cost no body; failed attempts count against the client address's limit
 * (429 past it).
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly credentials: CredentialsService,
  ) {}

  canActivate(ctx: ExecutionContext): boolean | Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (isPublic) return true;
    return this.authenticate(ctx.switchToHttp().getRequest<Request & { user?: AuthUser }>());
  }

  private async authenticate(req: Request & { user?: AuthUser }): Promise<boolean> {
    req.user = await this.credentials.forRequest(req);
    return true;
  }
}
