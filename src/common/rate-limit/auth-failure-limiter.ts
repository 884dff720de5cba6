import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { AppException } from '../errors/app.exception.js';
import { RateLimitStore } from './rate-limit.store.js';

const MINUTE = 60_000;

/** Blocked keys remembered by one instance at most (the oldest is forgotten first). */
const BLOCKS_KEPT = 100_000;

/** Where failed attempts come from: the client's address, and the shown prefix of an API key when one was sent. */
export interface AttemptSource {
  address: string;
  keyPrefix?: string;
}

interface Bucket {
  key: string;
  limit: number;
  describe: string;
}

/**
 * Failed authentication (credentials sent and refused: REST, Socket.IO
 * handshakes, WebSocket upgrades) counted per client address and per API-key
 * prefix, per minute, in the rate-limit store: Redis when configured, so every
 * instance counts against one limit. Only failures are counted; a request
 * whose credentials are valid costs nothing here.
 *
 * The attempt that passes a limit is answered 429 `rate_limited` (with
 * `retry_after`) instead of 401, and from then on, until the window resets,
 * the instance refuses that address's (or prefix's) attempts before their
 * credentials are hashed or looked up: `refusal` is a memory lookup, no I/O.
 * Another instance learns of the block from its own first failed attempt
 * after it (the shared count is already past the limit).
 */
@Injectable()
export class AuthFailureLimiter {
  /** Keys past their limit on this instance, with when their window resets (ms epoch). */
  private readonly blocked = new Map<string, number>();
  private readonly perAddress: number;
  private readonly perKeyPrefix: number;

  constructor(
    private readonly store: RateLimitStore,
    config: AppConfig,
  ) {
    this.perAddress = config.authFailureLimit.perIpPerMinute;
    this.perKeyPrefix = config.authFailureLimit.perApiKeyPrefixPerMinute;
  }

  /**
   * The 429 for an attempt to refuse without trying its credentials (its
   * address, or its API key's prefix, is past the limit), or undefined.
   */
  refusal(source: AttemptSource): AppException | undefined {
    if (this.blocked.size === 0) return undefined;
    const now = Date.now();
    for (const bucket of this.buckets(source)) {
      const until = this.blocked.get(bucket.key);
      if (until === undefined) continue;
      if (until > now) return this.tooMany(bucket, until - now);
      this.blocked.delete(bucket.key);
    }
    return undefined;
  }

  /** Counts a failed attempt; the 429 to answer instead of the 401 when it went past a limit. */
  async failed(source: AttemptSource): Promise<AppException | undefined> {
    let exceeded: AppException | undefined;
    for (const bucket of this.buckets(source)) {
      const { count, resetMs } = await this.hit(bucket.key);
      if (count <= bucket.limit) continue;
      this.block(bucket.key, Date.now() + resetMs);
      exceeded ??= this.tooMany(bucket, resetMs);
    }
    return exceeded;
  }

  private buckets({ address, keyPrefix }: AttemptSource): Bucket[] {
    const buckets: Bucket[] = [
      {
        key: `auth-fail:ip:${address}`,
        limit: this.perAddress,
        describe: `Too many failed authentication attempts from this address (limit ${this.perAddress} per minute)`,
      },
    ];
    if (keyPrefix) {
      buckets.push({
        key: `auth-fail:key:${keyPrefix}`,
        limit: this.perKeyPrefix,
        describe: `Too many failed attempts with API keys of this prefix (limit ${this.perKeyPrefix} per minute)`,
      });
    }
    return buckets;
  }

  private tooMany(bucket: Bucket, resetMs: number): AppException {
    const retryAfter = Math.max(1, Math.ceil(resetMs / 1000));
    return new AppException('rate_limited', `${bucket.describe}; retry in ${retryAfter} s`, {
      retry_after: retryAfter,
    });
  }

  private block(key: string, until: number): void {
    this.blocked.delete(key);
    if (this.blocked.size >= BLOCKS_KEPT) this.sweep();
    if (this.blocked.size >= BLOCKS_KEPT) this.blocked.delete(this.blocked.keys().next().value as string);
    this.blocked.set(key, until);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, until] of this.blocked) if (until <= now) this.blocked.delete(key);
  }

  /** The store counts in this process while the shared one (Redis) is unreachable. */
  private hit(key: string): Promise<{ count: number; resetMs: number }> {
    return this.store.hit(key, MINUTE);
  }
}
