import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AppConfig } from '../../config/app-config.js';
import { BODY_LIMIT_KEY, type BodyLimitSpec, bodySizeBytes } from './body-limit.decorator.js';
import { hasBody, readRequestBody, type RouteBody } from './request-body.js';

/**
 * Reads a request's body under its route's limit (`@BodyLimit`,
 * `@StreamedBody`, else JSON within JSON_BODY_LIMIT_BYTES). It runs among
 * the global guards right after authentication, so a guarded route's body is
 * read only once its credentials are valid: an unauthenticated upload is
 * answered 401 without a byte of it read (and its connection closed, see
 * `closeIfAnsweredEarly`). A request without a body costs one header check.
 */
@Injectable()
export class RequestBodyGuard implements CanActivate {
  /** Each handler's limit, worked out once (a limit may depend on the config). */
  private readonly routes = new Map<object, RouteBody>();

  constructor(
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
  ) {}

  canActivate(ctx: ExecutionContext): boolean | Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const http = ctx.switchToHttp();
    const req = http.getRequest<Request>();
    if (!hasBody(req)) return true;
    return readRequestBody(req, this.routeBody(ctx)).then(() => true);
  }

  private routeBody(ctx: ExecutionContext): RouteBody {
    const handler = ctx.getHandler();
    let route = this.routes.get(handler);
    if (!route) {
      const spec = this.reflector.getAllAndOverride<BodyLimitSpec | undefined>(BODY_LIMIT_KEY, [
        handler,
        ctx.getClass(),
      ]);
      route = this.resolve(spec);
      this.routes.set(handler, route);
    }
    return route;
  }

  private resolve(spec: BodyLimitSpec | undefined): RouteBody {
    if (!spec) return { kind: 'json', limit: this.config.jsonBodyLimitBytes };
    if (spec.kind === 'stream') return { kind: 'stream', limit: Infinity };
    const limit = typeof spec.limit === 'function' ? spec.limit(this.config) : bodySizeBytes(spec.limit ?? 0);
    return { kind: spec.kind, limit, entries: spec.entries?.(this.config) };
  }
}
