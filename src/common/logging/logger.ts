import type { LoggerService } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { AppConfig } from '../../config/app-config.js';

/** Fields that must never reach a log line, wherever they appear in a logged object. */
const REDACT = [
  'password',
  '*.password',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-api-key"]',
  'secret',
  '*.secret',
];

export function createLogger(config: Pick<AppConfig, 'logLevel'>, destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'adiuva-cloud-api' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's X-Request-Id when it is a sane token, else a new UUID. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  const value = Array.isArray(given) ? given[0] : given;
  return value && REQUEST_ID.test(value) ? value : randomUUID();
}

type LoggedRequest = IncomingMessage & { id?: string };

const requestSerializers = {
  res: (res: ServerResponse) => ({ status: res.statusCode }),
  // The exception filter logs server errors with their stack; here only the kind.
  err: (err: Error) => ({ type: err.name }),
};

/**
 * A deliberate 502/503/504 (provider or backing service down) is a warning, said once in detail
 * by whoever raised it; a 500 is a bug and an error.
 */
function levelOf(res: ServerResponse, err: Error | undefined): 'info' | 'warn' | 'error' {
  return res.statusCode > 500 ? 'warn' : err || res.statusCode >= 500 ? 'error' : 'info';
}

/**
 * Sets the request id (`req.id` and the X-Request-Id response header) and
 * writes one JSON line per request with id, method, path (no query string: it
 * can carry tokens), status and duration; never headers or bodies. The line
 * and its child logger are only built when its level is enabled, so a
 * request costs no logging work at a level that drops it.
 */
export function httpLogger(logger: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  const requests = logger.child({}, { serializers: requestSerializers });
  return (req: LoggedRequest, res: ServerResponse) => {
    const id = requestIdFor(req);
    req.id = id;
    res.setHeader('X-Request-Id', id);
    const started = Date.now();
    // As received: routing rewrites req.url (mount points) before the response ends.
    const { method, url = '' } = req;
    let logged = false;
    const complete = (err?: Error) => {
      if (logged) return;
      logged = true;
      res.removeListener('error', complete);
      const level = levelOf(res, err);
      if (!requests.isLevelEnabled(level)) return;
      const line = requests.child({ request_id: id, req: { method, path: url.split('?')[0] } });
      const durationMs = Date.now() - started;
      if (err || res.statusCode >= 500) {
        const failure = err ?? new Error(`failed with status code ${res.statusCode}`);
        line[level]({ res, err: failure, duration_ms: durationMs }, 'request failed');
      } else {
        line[level]({ res, duration_ms: durationMs }, 'request completed');
      }
    };
    // A response emits 'close' once it is over, finished or cut short ('finish' comes before it).
    res.once('close', () => complete());
    res.on('error', complete);
  };
}

/** Routes Nest's own logging (bootstrap, module messages) into the same JSON stream. */
export class PinoLoggerService implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.write('info', message, context);
  }
  error(message: unknown, stackOrContext?: string, context?: string): void {
    const stack = context ? stackOrContext : undefined;
    const ctx = context ?? (stackOrContext && !stackOrContext.includes('\n') ? stackOrContext : undefined);
    this.logger.error({ context: ctx, ...(stack ? { stack } : {}) }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string): void {
    this.write('fatal', message, context);
  }

  private write(
    level: 'info' | 'warn' | 'debug' | 'trace' | 'fatal',
    message: unknown,
    context?: string,
  ): void {
    if (typeof message === 'object' && message !== null) {
      this.logger[level]({ context, ...message });
    } else {
      this.logger[level]({ context }, String(message));
    }
  }
}
