import { Global, Injectable, Module, type Provider } from '@nestjs/common';
import { json, raw, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppConfig } from '../../config/app-config.js';
import { API_PREFIX } from './api-prefix.js';

/**
 * A route whose body needs another parser than the default JSON one: a
 * bigger JSON limit (base64 blobs), or the raw bytes (a signed webhook).
 */
export interface BodyParserRoute {
  /** Path under the API prefix, e.g. `/storage/records` (its sub-paths too). */
  path: string;
  kind: 'json' | 'raw';
  /** Bytes; the default JSON limit applies when this is smaller. */
  limit: (config: AppConfig) => number;
}

/** Collects the routes modules declare with `bodyParserRoute`, for the app factory to mount. */
@Injectable()
export class BodyParserRoutes {
  private readonly routes: BodyParserRoute[] = [];

  add(route: BodyParserRoute): void {
    this.routes.push(route);
  }

  /**
   * One middleware for every body: a request without one (no Content-Length, no
   * Transfer-Encoding: most GETs) goes straight on; one with a body goes through
   * its route's parser (a path under the route's, in any case, as Express
   * matches), else the default JSON parser. `after` then runs on every request.
   */
  middleware(config: AppConfig, after: RequestHandler): RequestHandler {
    const routes = this.routes.map((route) => {
      const limit = Math.max(route.limit(config), config.jsonBodyLimitBytes);
      const parser = route.kind === 'raw' ? raw({ type: () => true, limit }) : json({ limit });
      return { prefix: `/${API_PREFIX}${route.path}`.toLowerCase(), parser };
    });
    const fallback = json({ limit: config.jsonBodyLimitBytes });
    return (req: Request, res: Response, next: NextFunction) => {
      const then = (err?: unknown) => (err ? next(err) : after(req, res, next));
      if (!hasBody(req)) return then();
      const path = req.path.toLowerCase();
      const route = routes.find(({ prefix }) => path === prefix || path.startsWith(`${prefix}/`));
      (route?.parser ?? fallback)(req, res, then);
    };
  }
}

/** As body-parser decides (type-is `hasBody`): a Transfer-Encoding, or a numeric Content-Length. */
function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || !isNaN(Number(req.headers['content-length']));
}

@Global()
@Module({ providers: [BodyParserRoutes], exports: [BodyParserRoutes] })
export class BodyParsersModule {}

/** Declares a route's body parser; list it among the module's providers. */
export function bodyParserRoute(route: BodyParserRoute): Provider {
  return {
    provide: Symbol(`body parser: ${route.path}`),
    inject: [BodyParserRoutes],
    useFactory: (routes: BodyParserRoutes) => routes.add(route),
  };
}
