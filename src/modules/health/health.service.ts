import { Injectable, Logger } from '@nestjs/common';
import { LifecycleService } from '../../common/lifecycle/lifecycle.service.js';
import { APP_VERSION } from '../../config/version.js';
import { BlobStore } from '../../common/blob-store/blob-store.js';
import { RedisService } from '../../common/redis/redis.service.js';
import { DatabaseService } from '../../database/database.service.js';
import type { HealthDto, ReadinessDto } from './dto/health.dto.js';
import { HealthException } from './health.errors.js';

type Check = () => Promise<void>;

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const CHECK_TIMEOUT_MS = 2000;

/**
 * Liveness is the process answering at all; readiness is every backing
 * service answering. Modules that bring a backing service (Redis, S3) add
 * their check with `register`.
 */
@Injectable()
export class HealthService {
  private readonly logger = new Logger('Health');
  private readonly checks = new Map<string, Check>();

  constructor(
    private readonly lifecycle: LifecycleService,
    database: DatabaseService,
    redis: RedisService,
    blobs: BlobStore,
  ) {
    this.register('database', () => withTimeout(database.ping(), CHECK_TIMEOUT_MS));
    if (redis.client) this.register('redis', () => withTimeout(redis.ping(), CHECK_TIMEOUT_MS));
    this.register('blob_store', () => withTimeout(blobs.ping(), CHECK_TIMEOUT_MS));
  }

  register(name: string, check: Check): void {
    this.checks.set(name, check);
  }

  health(): HealthDto {
    return { status: 'ok', version: APP_VERSION };
  }

  async readiness(): Promise<ReadinessDto> {
    if (this.lifecycle.isShuttingDown) {
      throw new HealthException('service_unavailable', 'Not ready: the server is shutting down');
    }
    const entries = [...this.checks.entries()];
    const results = await Promise.all(
      entries.map(async ([name, check]) => {
        try {
          await check();
          return [name, 'up'] as const;
        } catch (err) {
          this.logger.warn(`Readiness check "${name}" failed: ${(err as Error).message}`);
          return [name, 'down'] as const;
        }
      }),
    );
    const down = results.filter(([, state]) => state === 'down').map(([name]) => name);
    if (down.length > 0) {
      throw new HealthException(
        'service_unavailable',
        `Not ready: ${down.join(', ')} ${down.length > 1 ? 'are' : 'is'} down`,
      );
    }
    return { status: 'ok', checks: Object.fromEntries(results) };
  }
}
