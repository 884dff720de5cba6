import { Logger } from '@nestjs/common';

/** Counters for fixed-window rate limits. A port: in memory (one instance) or Redis (shared). */
export abstract class RateLimitStore {
  /**
   * Counts one hit on `key` in its current window of `windowMs` and returns the
   * count so far and the milliseconds until the window resets.
   */
  abstract hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }>;
}

/** One process's counters. Expired windows are swept so the map stays bounded by active keys. */
export class MemoryRateLimitStore extends RateLimitStore {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private lastSweep = Date.now();

  hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }> {
    const now = Date.now();
    if (now - this.lastSweep > 60_000) this.sweep(now);
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, w);
    }
    w.count++;
    return Promise.resolve({ count: w.count, resetMs: w.resetAt - now });
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, w] of this.windows) if (w.resetAt <= now) this.windows.delete(key);
  }
}

/**
 * The shared counters (Redis) with this process's counters behind them: while the shared store
 * is unreachable every limit is counted per instance instead, so it still holds there rather
 * than not at all (sign-in brute force, failed authentication, socket events, submissions).
 * Says so in the log at most once a minute. Every limiter gets its counters through this one.
 */
export class FallbackRateLimitStore extends RateLimitStore {
  private readonly logger = new Logger('RateLimit');
  private readonly local = new MemoryRateLimitStore();
  private warnedAt = 0;

  constructor(private readonly shared: RateLimitStore) {
    super();
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }> {
    try {
      return await this.shared.hit(key, windowMs);
    } catch (err) {
      if (Date.now() - this.warnedAt > 60_000) {
        this.warnedAt = Date.now();
        this.logger.warn(
          `Rate limits counted per instance, the shared counters failed: ${(err as Error).message}`,
        );
      }
      return this.local.hit(key, windowMs);
    }
  }
}
