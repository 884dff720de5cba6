import { ValidationPipe, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import cors from 'cors';
import helmet from 'helmet';
import type { Express, NextFunction, Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { CorsIoAdapter } from './common/realtime/io.adapter.js';
import { MAX_CHAT_EVENT_BYTES } from './modules/chat/index.js';
import { allowedMethodsFor } from './common/http/allowed-methods.js';
import { answerClientErrors } from './common/http/client-error.js';
import { AppExpressAdapter } from './common/http/express-server.js';
import { fixedHeaders } from './common/http/fixed-headers.js';
import { closeIfAnsweredEarly, hasBody } from './common/http/request-body.js';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter.js';
import { OutageService } from './modules/health/index.js';
import { inputLimitsMiddleware } from './common/input/input-limits.middleware.js';
import { KnownFieldsPipe } from './common/input/known-fields.pipe.js';
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
    new AppExpressAdapter(),
    { bodyParser: false, abortOnError: false, logger: new PinoLoggerService(logger) },
  );
  answerClientErrors(app.getHttpServer(), logger);
  useHttpMetrics(app);
  useHttpShell(app, config, logger);
  useInputLimits(app);
  app.setGlobalPrefix(API_PREFIX);
  app.useWebSocketAdapter(new CorsIoAdapter(app, config.corsOrigins, config.redisUrl, MAX_CHAT_EVENT_BYTES));
  useValidationAndErrors(app);
  if (config.swaggerEnabled) {
    // Built on the first request for the docs, not at start: the document and what Swagger makes of
    // it (the UI's init script embeds a copy) are megabytes an idle server need not hold (issue 38).
    SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app, config), {
      jsonDocumentUrl: 'docs-json',
    });
  }
  return app;
}

/**
 * Request id and log, security headers and CORS, before anything else sees a
 * request, in one middleware. Helmet's headers are the same on every
 * response, and so are CORS's on a request without an Origin (not a browser's
 * cross-origin call): both are computed once, at start.
 */
function useHttpShell(app: NestExpressApplication, config: AppConfig, logger: Logger): void {
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  const logRequest = httpLogger(logger);
  // No upgrade-insecure-requests: self-hosters reach /docs over plain HTTP on their LAN.
  const securityHeaders = fixedHeaders(
    helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }),
  );
  const corsHeaders = cors({
    origin: config.corsOrigins,
    credentials: true,
    exposedHeaders: EXPOSED_HEADERS,
  });
  const corsWithoutOrigin = fixedHeaders(corsHeaders);
  app.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
    logRequest(req, res);
    securityHeaders(res);
    if (req.headers.origin !== undefined || req.method === 'OPTIONS') return corsHeaders(req, res, next);
    corsWithoutOrigin(res);
    next();
  });
}

/**
 * The query's input limits, on every request before routing. Bodies are not
 * read here: the request-body guard reads them after authentication, under
 * each route's own limit. A request with a body that is answered before all
 * of it arrived (refused unread, too large, no such route) closes its
 * connection rather than reading the rest.
 */
function useInputLimits(app: NestExpressApplication): void {
  const checkQuery = inputLimitsMiddleware();
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (hasBody(req)) closeIfAnsweredEarly(req, res);
    checkQuery(req, res, next);
  });
}

function useValidationAndErrors(app: NestExpressApplication): void {
  app.useGlobalPipes(
    new ParamTextPipe(),
    // Unknown fields dropped before any transformation works on what they hold.
    new KnownFieldsPipe(),
    // Unknown JSON fields are dropped, not refused (older and newer clients keep working); only
    // DTO fields reach a service, so nothing can be mass-assigned.
    new ValidationPipe({ whitelist: true, transform: true, stopAtFirstError: false }),
    new NullAsAbsentPipe(),
  );
  const express: Express = app.getHttpAdapter().getInstance();
  app.useGlobalFilters(
    new AllExceptionsFilter(app.get(OutageService), (path) => allowedMethodsFor(express, path)),
  );
}
