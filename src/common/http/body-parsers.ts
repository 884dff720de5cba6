import { Global, Injectable, Module, type Provider } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json, raw } from 'express';
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

  /** Mounts each route's parser before the default one (which then skips those bodies, already read). */
  mount(app: NestExpressApplication, config: AppConfig): void {
    for (const route of this.routes) {
      const limit = Math.max(route.limit(config), config.jsonBodyLimitBytes);
      const parser = route.kind === 'raw' ? raw({ type: () => true, limit }) : json({ limit });
      app.use(`/${API_PREFIX}${route.path}`, parser);
    }
  }
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
