import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { StorageService } from './storage.service.js';

const EVERY_MS = 60 * 60 * 1000;

/** Purges expired tombstones and conflict copies hourly (safe on every instance: it is idempotent). */
@Injectable()
export class StoragePurgeService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('StoragePurge');
  private timer?: NodeJS.Timeout;

  constructor(private readonly storage: StorageService) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.run(), EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async run(): Promise<void> {
    try {
      const { records, conflicts } = await this.storage.purge();
      if (records || conflicts)
        this.logger.log(`Purged ${records} tombstones and ${conflicts} conflict copies`);
    } catch (err) {
      this.logger.warn(`Purge failed (will retry): ${(err as Error).message}`);
    }
  }
}
