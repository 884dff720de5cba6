import { ValidationPipe, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { CorsIoAdapter } from './common/realtime/io.adapter.js';
import { BodyParserRoutes } from './common/http/body-parsers.js';
import { fixedHeaders } from './common/http/fixed-headers.js';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter.js';
import { OutageService } from './modules/health/index.js';
import { inputLimitsMiddleware } from './common/input/input-limits.middleware.js';
import { NullAsAbsentPipe } from './common/input/null-as-absent.pipe.js';
import { ParamTextPipe } from './common/input/param-text.pipe.js';
import { createLogger, httpLogger, PinoLoggerService } from './common/logging/logger.js';
import { useHttpMetrics } from './common/metrics/http-metrics.js';
import type { AppConfig } from './config/app-config.js';
import { API_PREFIX, buildOpenApiDocument } from './openapi.document.js';

export { API_PREFIX };

export interface CreateAppOptions {
  logger?: Logger;
  /** Extra modules mounted beside the real ones (tests only). */
  extraModules?: Type[];
}

/** Headers a browser client may read from our responses. */
const EXPOSED_HEADERS = [
  'X-Request-Id',
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'ETag',
  'X-Checksum',
  'X-Backup-Version',
  'X-Backup-Timestamp',
  'X-Backup-Checksum',
  'Content-Range',
  'Last-Modified',
  'X-Total-Count',
  'Link',
];

/** Builds the fully configured application (not yet listening). Used by main.ts and the e2e tests. */
export async function createApp(
  config: AppConfig,
  options: CreateAppOptions = {},
): Promise<NestExpressApplication> {
  const logger = options.logger ?? createLogger(config);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, options.extraModules),
    { bodyParser: false, abortOnError: false, logger: new PinoLoggerService(logger) },
  );
  useHttpMetrics(app);
  useHttpShell(app, config, logger);
  useBodyParsers(app, config);
  app.setGlobalPrefix(API_PREFIX);
  app.useWebSocketAdapter(new CorsIoAdapter(app, config.corsOrigins, config.redisUrl));
  useValidationAndErrors(app);
  if (config.swaggerEnabled) {
    SwaggerModule.setup('docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
  }
  return app;
}

/**
 * Request id and log, security headers and CORS, before anything else sees a
 * request. Helmet's headers are the same on every response: computed once,
 * then set in one middleware with the request id.
 */
function useHttpShell(app: NestExpressApplication, config: AppConfig, logger: Logger): void {
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  const logRequest = httpLogger(logger);
  // No upgrade-insecure-requests: self-hosters reach /docs over plain HTTP on their LAN.
  const securityHeaders = fixedHeaders(
    helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }),
  );
  app.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
    logRequest(req, res);
    securityHeaders(res);
    next();
  });
  app.enableCors({ origin: config.corsOrigins, credentials: true, exposedHeaders: EXPOSED_HEADERS });
}

/**
 * The routes modules declared with other body parsers first (raw webhook
 * bytes, bigger blob-carrying JSON), then the default JSON parser, then the
 * input limits over whatever was parsed.
 */
function useBodyParsers(app: NestExpressApplication, config: AppConfig): void {
  app.get(BodyParserRoutes).mount(app, config);
  app.useBodyParser('json', { limit: config.jsonBodyLimitBytes });
  // After every body parser, before routing: JSON depth and size, NUL and unpaired surrogates.
  app.use(inputLimitsMiddleware());
}

function useValidationAndErrors(app: NestExpressApplication): void {
  app.useGlobalPipes(
    new ParamTextPipe(),
    // Unknown JSON fields are dropped, not refused (older and newer clients keep working); only
    // DTO fields reach a service, so nothing can be mass-assigned.
    new ValidationPipe({ whitelist: true, transform: true, stopAtFirstError: false }),
    new NullAsAbsentPipe(),
  );
  app.useGlobalFilters(new AllExceptionsFilter(app.get(OutageService)));
}
