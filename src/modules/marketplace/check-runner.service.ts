import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { availableParallelism } from 'node:os';
import { AppConfig } from '../../config/app-config.js';
import { CheckPool, CheckQueueFullError, type ChecksInput, type ChecksReport } from './checks/index.js';
import { MarketplaceException } from './marketplace.errors.js';

/** Leaves a core to the event loop; two at most, since submissions are rare. */
export const CHECK_WORKERS = Math.max(1, Math.min(2, availableParallelism() - 1));
/**
 * Submissions waiting for a worker at most: a burst of submissions fits (a small package takes
 * milliseconds), a flood is refused before it holds more packages in memory (each ~23 MiB with its body).
 */
export const MAX_QUEUED_CHECKS = 16;
/** What a refused submission is told to wait: about one big package's checks. */
export const CHECKS_BUSY_RETRY_AFTER_S = 5;

/**
 * The automated checks of submissions, on worker threads (CheckPool) with the configured deadline;
 * the pool stops with the application.
 */
@Injectable()
export class CheckRunner implements OnModuleDestroy {
  readonly pool: CheckPool;

  constructor(config: AppConfig) {
    this.pool = new CheckPool({
      size: CHECK_WORKERS,
      maxQueued: MAX_QUEUED_CHECKS,
      timeoutMs: config.pluginChecksTimeoutMs,
    });
  }

  /** The report; 503 `service_unavailable` with Retry-After when every worker is busy and the queue full. */
  async run(input: ChecksInput): Promise<ChecksReport> {
    try {
      return await this.pool.run(input);
    } catch (error) {
      if (!(error instanceof CheckQueueFullError)) throw error;
      throw new MarketplaceException(
        'service_unavailable',
        `too many submissions are being checked: retry in ${CHECKS_BUSY_RETRY_AFTER_S} s`,
        { retry_after: CHECKS_BUSY_RETRY_AFTER_S },
      );
    }
  }

  onModuleDestroy(): Promise<void> {
    return this.pool.close();
  }
}
