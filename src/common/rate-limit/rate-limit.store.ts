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
