import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { AppException } from '../errors/app.exception.js';
import { isUnroutedRequest } from '../http/allowed-methods.js';
import { codeForStatus, type ErrorCode } from '../errors/error-codes.js';
import { classifyOutage, OUTAGE_RETRY_AFTER_S, type OutageTracker } from '../outage/outage.js';

export interface ErrorBody {
  statusCode: number;
  error: string;
  code: ErrorCode;
  message: string | string[];
  request_id: string;
  /** Extra fields a client can act on (e.g. current_version on a 409). */
  [extra: string]: unknown;
}

/** Errors raised by Express middleware (body-parser and friends) carry their status this way. */
interface HttpishError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  message?: string;
  limit?: number;
}

const MIB = 1024 * 1024;

/**
 * The one place where errors become responses ({statusCode, error, code, message, request_id}).
 * Anything that is not a deliberate 4xx becomes a 500 whose details stay in
 * the log, never in the body.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  /**
   * `outages` logs a backing service's outage once, not one stack per failed request.
   * `allowedMethods` names the methods the app's routes answer on a path: a request no route
   * took whose path has other methods is 405 `method_not_allowed` with `Allow`, not 404.
   */
  constructor(
    private readonly outages?: OutageTracker,
    private readonly allowedMethods?: (path: string) => string[],
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request & { id?: string }>();
    const res = ctx.getResponse<Response>();
    const requestId = String(req.id ?? res.getHeader('X-Request-Id') ?? '');

    const dependency = exception instanceof AppException ? undefined : classifyOutage(exception);
    const { status, message, extra, code } = dependency
      ? unavailable(dependency)
      : (this.methodNotAllowed(exception, req, res) ?? describe(exception));
    if (dependency) this.outages?.failed(dependency, exception);
    else this.logServerError(exception, status, message, `${req.method} ${req.path}`, requestId);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body: ErrorBody = {
      statusCode: status,
      error: STATUS_CODES[status] ?? 'Error',
      code: code ?? codeForStatus(status),
      message,
      request_id: requestId,
      ...extra,
    };
    // A 429 or 503 that says when to come back says it in the header too.
    if (typeof extra?.retry_after === 'number' && !res.getHeader('Retry-After')) {
      res.setHeader('Retry-After', extra.retry_after);
    }
    res.status(status).json(body);
  }

  /** For a request no route took: 405 with `Allow` when the path has routes for other methods. */
  private methodNotAllowed(exception: unknown, req: Request, res: Response) {
    if (
      !this.allowedMethods ||
      !(exception instanceof NotFoundException) ||
      exception instanceof AppException
    )
      return undefined;
    if (!isUnroutedRequest(req, exception.message)) return undefined;
    // The not-found handler is mounted under the API prefix, which Express strips from req.path.
    const allowed = this.allowedMethods((req.originalUrl ?? req.url).split('?')[0]);
    if (allowed.length === 0) return undefined;
    res.setHeader('Allow', allowed.join(', '));
    return {
      status: 405,
      code: 'method_not_allowed' as const,
      message: `${req.method} is not allowed on this path; it answers ${allowed.join(', ')}`,
      extra: undefined,
    };
  }

  /** 5xx only: a deliberate one (provider down, not configured) at warn, an unexpected one at error with its stack. */
  private logServerError(
    exception: unknown,
    status: number,
    message: unknown,
    route: string,
    requestId: string,
  ): void {
    if (status < 500) return;
    if (exception instanceof HttpException) {
      this.logger.warn(`${route} answered ${status} [request_id=${requestId}]: ${String(message)}`);
      return;
    }
    const err = exception instanceof Error ? exception : new Error(String(exception));
    this.logger.error(`${route} failed [request_id=${requestId}]: ${err.message}`, err.stack, 'Exceptions');
  }
}

const RESERVED = new Set(['statusCode', 'error', 'message', 'request_id', 'code']);

/** Fields besides the standard ones in a 4xx HttpException's response object, e.g. {current_version}. */
function extraFields(response: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(response).filter(([k]) => !RESERVED.has(k)));
}

/** A backing service is unreachable: 503 with Retry-After, and a code that says which. */
function unavailable(dependency: ReturnType<typeof classifyOutage> & string) {
  return dependency === 'database'
    ? {
        status: 503,
        code: 'database_unavailable' as const,
        message: 'The database is unreachable; retry in a few seconds',
        extra: { retry_after: OUTAGE_RETRY_AFTER_S },
      }
    : {
        status: 503,
        code: 'storage_unavailable' as const,
        message: 'The blob store is unreachable; retry in a few seconds',
        extra: { retry_after: OUTAGE_RETRY_AFTER_S },
      };
}

function describe(exception: unknown): {
  status: number;
  message: string | string[];
  extra?: Record<string, unknown>;
  code?: ErrorCode;
} {
  // Express body-parser errors arrive raw or wrapped by Nest's adapter (with the original as `cause`).
  const raw = (exception instanceof HttpException ? exception.cause : exception) as HttpishError | undefined;
  if (raw?.type === 'entity.parse.failed') {
    return { status: 400, code: 'malformed_json', message: 'Malformed JSON in request body' };
  }
  if (raw?.type === 'entity.too.large') {
    const limit = raw.limit
      ? ` of ${raw.limit >= MIB ? `${raw.limit / MIB} MiB` : `${raw.limit} bytes`}`
      : '';
    return { status: 413, code: 'payload_too_large', message: `Request body exceeds the limit${limit}` };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = exception instanceof AppException ? exception.appCode : undefined;
    if (status >= 500) {
      if (status === 500) return { status, code, message: 'Internal server error' };
      const response = exception.getResponse();
      const extra = typeof response === 'object' ? extraFields(response) : undefined;
      return { status, code, message: exception.message, extra };
    }
    const response = exception.getResponse();
    if (typeof response === 'string') return { status, code, message: response };
    const msg = (response as { message?: unknown }).message;
    if (typeof msg === 'string' || (Array.isArray(msg) && msg.every((m) => typeof m === 'string'))) {
      return { status, code, message: msg, extra: extraFields(response) };
    }
    return { status, code, message: exception.message };
  }
  const status = raw?.status ?? raw?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && raw?.expose !== false) {
    return { status, message: raw?.message ?? STATUS_CODES[status] ?? 'Bad request' };
  }
  return { status: 500, message: 'Internal server error' };
}
