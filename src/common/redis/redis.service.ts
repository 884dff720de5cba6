import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { AppConfig } from '../../config/app-config.js';

/** The shared Redis connection when REDIS_URL is set (rate-limit counters, Socket.IO adapter). */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  readonly client: Redis | undefined;

  constructor(config: AppConfig) {
    if (!config.redisUrl) return;
    this.client = new Redis(config.redisUrl, {
      // Fail a command quickly while Redis is away instead of queueing it for long.
      maxRetriesPerRequest: 1,
      connectTimeout: 5_000,
      enableOfflineQueue: true,
    });
    this.client.on('error', (err: Error) => this.logger.warn(`Redis error: ${err.message}`));
  }

  async ping(): Promise<void> {
    if (!this.client) return;
    await this.client.ping();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.client && this.client.status !== 'end') await this.client.quit().catch(() => undefined);
  }
}
