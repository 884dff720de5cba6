import { ValidationPipe, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { json, raw } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { CorsIoAdapter } from './common/realtime/io.adapter.js';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter.js';
import { OutageService } from './modules/health/index.js';
import { inputLimitsMiddleware } from './common/input/input-limits.middleware.js';
import { NullAsAbsentPipe } from './common/input/null-as-absent.pipe.js';
import { ParamTextPipe } from './common/input/param-text.pipe.js';
import { createLogger, httpLogger, PinoLoggerService } from './common/logging/logger.js';
import type { AppConfig } from './config/app-config.js';
import { STRIPE_WEBHOOK_PATH } from './modules/billing/index.js';
import { RECORD_BODY_PATHS } from './modules/storage/index.js';
import { MAX_BATCH } from './modules/vector/index.js';
import { VECTOR_SEARCH_PATH, VECTOR_UPSERT_PATH, vectorBodyLimit } from './modules/vector/index.js';
import { API_PREFIX, buildOpenApiDocument } from './openapi.document.js';

export { API_PREFIX };

export interface CreateAppOptions {
  logger?: Logger;
  /** Extra modules mounted beside the real ones (tests only). */
  extraModules?: Type[];
}

/** Builds the fully configured application (not yet listening). Used by main.ts and the e2e tests. */
export async function createApp(
  config: AppConfig,
  options: CreateAppOptions = {},
): Promise<NestExpressApplication> {
  const logger = options.logger ?? createLogger(config);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, options.extraModules),
    {
      bodyParser: false,
      abortOnError: false,
      logger: new PinoLoggerService(logger),
    },
  );

  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(httpLogger(logger));
  // No upgrade-insecure-requests: self-hosters reach /docs over plain HTTP on their LAN.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  app.enableCors({
    origin: config.corsOrigins,
    credentials: true,
    exposedHeaders: [
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
    ],
  });
  // Stripe signs the exact bytes it sends: that route gets them raw (and the JSON parser then skips it).
  app.use(STRIPE_WEBHOOK_PATH, raw({ type: () => true, limit: config.jsonBodyLimitBytes }));
  // Record writes carry up to STORAGE_MAX_RECORD_BYTES as base64 (4/3 of it) plus a little JSON.
  const recordLimit = Math.ceil((config.storageMaxRecordBytes * 4) / 3) + 64 * 1024;
  app.use(RECORD_BODY_PATHS, json({ limit: Math.max(recordLimit, config.jsonBodyLimitBytes) }));
  app.use(
    VECTOR_UPSERT_PATH,
    json({ limit: Math.max(vectorBodyLimit(config, MAX_BATCH), config.jsonBodyLimitBytes) }),
  );
  app.use(
    VECTOR_SEARCH_PATH,
    json({ limit: Math.max(vectorBodyLimit(config, 1), config.jsonBodyLimitBytes) }),
  );
  app.useBodyParser('json', { limit: config.jsonBodyLimitBytes });
  // After every body parser, before routing: JSON depth and size, NUL and unpaired surrogates.
  app.use(inputLimitsMiddleware());
  app.setGlobalPrefix(API_PREFIX);
  app.useWebSocketAdapter(new CorsIoAdapter(app, config.corsOrigins, config.redisUrl));
  app.useGlobalPipes(
    new ParamTextPipe(),
    // Unknown JSON fields are dropped, not refused (older and newer clients keep working); only
    // DTO fields reach a service, so nothing can be mass-assigned.
    new ValidationPipe({
      whitelist: true,
      transform: true,
      stopAtFirstError: false,
    }),
    new NullAsAbsentPipe(),
  );
  app.useGlobalFilters(new AllExceptionsFilter(app.get(OutageService)));

  if (config.swaggerEnabled) {
    SwaggerModule.setup('docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
  }
  return app;
}
