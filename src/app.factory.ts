import { ValidationPipe, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { json, raw } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { CorsIoAdapter } from './common/realtime/io.adapter.js';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter.js';
import { createLogger, httpLogger, PinoLoggerService } from './common/logging/logger.js';
import type { AppConfig } from './config/app-config.js';
import { STRIPE_WEBHOOK_PATH } from './modules/billing/billing.module.js';
import { RECORD_BODY_PATHS } from './modules/storage/storage.module.js';
import { MAX_BATCH } from './modules/vector/dto/vector.dto.js';
import { VECTOR_SEARCH_PATH, VECTOR_UPSERT_PATH, vectorBodyLimit } from './modules/vector/vector.module.js';
import { APP_VERSION } from './config/version.js';

export const API_PREFIX = 'api/v1';

/** One tag per module, in the order the Swagger UI shows them. */
const API_TAGS: Array<[string, string]> = [
  ['health', 'Liveness and readiness probes'],
  ['auth', 'Accounts, sessions, tokens and API keys'],
  ['billing', 'Tiers, Stripe checkout, subscriptions and the Stripe webhook'],
  ['storage', 'End-to-end encrypted records, conflicts, quota, changes feed and devices'],
  [
    'vectors',
    'Vector store on pgvector: encrypted items found by blob hash (identical blobs) or by semantic vectors',
  ],
  ['backup', 'Encrypted backups: streamed uploads, history, conditional and ranged downloads'],
  ['chat', 'Chat with the agents: routing, tool calls, pipelines and plan mode (nothing is stored)'],
  ['agents', 'The agents, their tools and tiers; playbooks (plans of template ids)'],
  ['admin', 'Administration (admin role): accounts and the audit log'],
];

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
  app.setGlobalPrefix(API_PREFIX);
  app.useWebSocketAdapter(new CorsIoAdapter(app, config.corsOrigins, config.redisUrl));
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
    }),
  );
  app.useGlobalFilters(new AllExceptionsFilter());

  if (config.swaggerEnabled) {
    const builder = new DocumentBuilder()
      .setTitle('Adiuva Cloud API')
      .setDescription(
        'Accounts, billing, LLM chat, end-to-end encrypted storage and sync, vectors, backups and plugins. ' +
          'Every error has the shape {statusCode, error, message, request_id}; every response carries X-Request-Id.',
      )
      .setVersion(APP_VERSION)
      .addBearerAuth({
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'An access token from /auth/login, or an API key (adv_…)',
      })
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api_key');
    for (const [name, description] of API_TAGS) builder.addTag(name, description);
    const document = SwaggerModule.createDocument(app, builder.build());
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  }
  return app;
}
