import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { availableParallelism } from 'node:os';
import { AppConfig } from '../../config/app-config.js';
import { AppException } from '../../common/errors/app.exception.js';
import {
  AccountQueueFullError,
  CheckPool,
  CheckQueueFullError,
  type ChecksInput,
  type ChecksReport,
} from './checks/index.js';
import { PluginSubmissionsException } from './plugin-submissions.errors.js';

/** Leaves a core to the event loop; two at most, since submissions are rare. */
export const CHECK_WORKERS = Math.max(1, Math.min(2, availableParallelism() - 1));
/**
 * Submissions waiting for a worker at most: a burst of submissions fits (a small package takes
 * milliseconds), a flood is refused before it holds more packages in memory (each ~23 MiB with its body).
 */
export const MAX_QUEUED_CHECKS = 16;
/**
 * Submissions of one account waiting at most (its running one aside): with it, the 5 an account may
 * have waiting for review. More would only fill the queue others wait in: they are refused with 429.
 */
export const MAX_QUEUED_CHECKS_PER_ACCOUNT = 4;
/** What a refused submission is told to wait: about one big package's checks. */
export const CHECKS_BUSY_RETRY_AFTER_S = 5;

/**
 * The automated checks of submissions, on worker threads (CheckPool) with the configured deadline;
 * fair between accounts (one worker at most per account, accounts take turns); the pool stops with
 * the application.
 */
@Injectable()
export class CheckRunner implements OnModuleDestroy {
  readonly pool: CheckPool;

  constructor(config: AppConfig) {
    this.pool = new CheckPool({
      size: CHECK_WORKERS,
      maxQueued: MAX_QUEUED_CHECKS,
      maxQueuedPerAccount: MAX_QUEUED_CHECKS_PER_ACCOUNT,
      timeoutMs: config.pluginChecksTimeoutMs,
    });
  }

  /**
   * The report of `accountId`'s submission, checked in that account's turn. 503 `service_unavailable`
   * with Retry-After when every worker is busy and the queue full; 429 `rate_limited` with
   * Retry-After when the account already has its share of the queue.
   */
  async run(input: ChecksInput, accountId: string): Promise<ChecksReport> {
    try {
      return await this.pool.run(input, accountId);
    } catch (error) {
      if (error instanceof AccountQueueFullError) {
        throw new AppException(
          'rate_limited',
          `you have ${MAX_QUEUED_CHECKS_PER_ACCOUNT + 1} submissions being checked: retry in ${CHECKS_BUSY_RETRY_AFTER_S} s`,
          { retry_after: CHECKS_BUSY_RETRY_AFTER_S },
        );
      }
      if (!(error instanceof CheckQueueFullError)) throw error;
      throw new PluginSubmissionsException(
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
