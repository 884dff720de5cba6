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
    const [count, ttl] = (await this.redis.eval(SCRIPT, 1, this.prefix + key, String(windowMs))) as [
      number,
      number,
    ];
    return { count, resetMs: ttl };
  }
}
