import { Global, Module } from '@nestjs/common';
import { RedisService } from '../redis/redis.service.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { FallbackRateLimitStore, MemoryRateLimitStore, RateLimitStore } from './rate-limit.store.js';
import { RedisRateLimitStore } from './redis-rate-limit.store.js';
import { SocketEventLimiter } from './socket-event-limiter.js';

/**
 * Counters in Redis when REDIS_URL is set (one limit across instances; while Redis is unreachable,
 * in this process), else in memory.
 */
@Global()
@Module({
  providers: [
    {
      provide: RateLimitStore,
      inject: [RedisService],
      useFactory: (redis: RedisService) =>
        redis.client
          ? new FallbackRateLimitStore(new RedisRateLimitStore(redis.client))
          : new MemoryRateLimitStore(),
    },
    RateLimitGuard,
    SocketEventLimiter,
  ],
  exports: [RateLimitStore, RateLimitGuard, SocketEventLimiter],
})
export class RateLimitModule {}
