import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { AppConfig } from '../../config/app-config.js';
import { LifecycleService } from './lifecycle.service.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Drain in the order a load balancer needs: readiness turns 503 (and stays so
 * for SHUTDOWN_DELAY_MS while the balancer notices), the listener closes, in-
 * flight requests finish (bounded by SHUTDOWN_TIMEOUT_MS, then their sockets
 * are cut), and only then do the database and the other resources close.
 */
export async function gracefulShutdown(
  app: INestApplication,
  config: Pick<AppConfig, 'shutdownDelayMs' | 'shutdownTimeoutMs'>,
  logger: Logger,
): Promise<void> {
  app.get(LifecycleService).beginShutdown();
  if (config.shutdownDelayMs > 0) await sleep(config.shutdownDelayMs);

  const server = app.getHttpServer() as Server;
  // Keep-alive sockets that finish their request must not hold the close open.
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  const force = setTimeout(() => {
    logger.warn(
      `In-flight requests still running after ${config.shutdownTimeoutMs} ms: closing their connections`,
    );
    server.closeAllConnections();
  }, config.shutdownTimeoutMs);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(force);
  }
}

/** SIGTERM/SIGINT start one graceful shutdown, then the process exits 0 (1 if closing failed). */
export function exitOnSignals(
  app: INestApplication,
  config: Pick<AppConfig, 'shutdownDelayMs' | 'shutdownTimeoutMs'>,
  logger: Logger,
): void {
  let started = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    logger.info({ signal }, 'Shutting down: draining in-flight requests');
    gracefulShutdown(app, config, logger).then(
      () => {
        logger.info('Shutdown complete');
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'Shutdown failed');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
