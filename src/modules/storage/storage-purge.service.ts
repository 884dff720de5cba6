import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AttachmentsService } from './attachments.service.js';
import { StorageService } from './storage.service.js';

const EVERY_MS = 60 * 60 * 1000;

/**
 * Purges expired tombstones and conflict copies hourly, and sweeps attachment uploads not
 * completed by their deadline (safe on every instance: both are idempotent). A record's
 * attachments leave with the record's deletion, so a purged tombstone has none left.
 */
@Injectable()
export class StoragePurgeService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('StoragePurge');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly storage: StorageService,
    private readonly attachments: AttachmentsService,
  ) {}

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
      const uploads = await this.attachments.sweepExpired();
      if (uploads) this.logger.log(`Swept ${uploads} attachment uploads not completed in time`);
    } catch (err) {
      this.logger.warn(`Purge failed (will retry): ${(err as Error).message}`);
    }
  }
}
