import type { Redis } from 'ioredis';
import { RateLimitStore } from './rate-limit.store.js';

/** INCR and the window's expiry in one atomic step; returns [count, ms until reset]. */
const SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

/**
 * Counters in Redis, so every instance counts against one limit. The
 * connection belongs to RedisService, which closes it at shutdown.
 */
export class RedisRateLimitStore extends RateLimitStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'adiuva:rl:',
  ) {
    super();
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }> {
    // While the connection is down, fail at once (the guard counts in memory) instead of queueing
    // the command behind ioredis's reconnection backoff (up to 2 s per request).
    if (lost(this.redis)) throw new Error(`Redis is ${this.redis.status}`);
    const [count, ttl] = (await this.redis.eval(SCRIPT, 1, this.prefix + key, String(windowMs))) as [
      number,
      number,
    ];
    return { count, resetMs: ttl };
  }
}

/** The connection was up and went away (the first connect still queues its commands). */
const lost = (redis: Redis) => ['reconnecting', 'close', 'end'].includes(redis.status);
