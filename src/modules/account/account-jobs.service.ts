import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { AccountErasureService } from './account-erasure.service.js';
import { AccountExportService } from './account-export.service.js';

/**
 * The account module's background work, every ACCOUNT_JOBS_INTERVAL_MS and
 * whenever a request queues some: write queued exports, run due erasures
 * (and retries), remove expired archives. One pass at a time per instance;
 * across instances the rows are claimed with SKIP LOCKED, so each job runs once.
 */
@Injectable()
export class AccountJobsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AccountJobs');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopping = false;

  constructor(
    private readonly exports: AccountExportService,
    private readonly erasures: AccountErasureService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.config.accountErasure.jobsIntervalMs;
    if (interval > 0) this.timer = setInterval(() => this.kick(), interval);
    this.timer?.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Starts a pass now (or right after the one running); never throws. */
  kick(): void {
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((err: Error) => this.logger.error(`Account jobs pass failed: ${err.message}`))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopping) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves once the pass running now (if any) and the ones it asked for have finished. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async pass(): Promise<void> {
    while (!this.stopping && (await this.exports.runNext()));
    while (!this.stopping && (await this.erasures.runNext()));
    if (!this.stopping) await this.exports.sweepExpired();
  }
}
