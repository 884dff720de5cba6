import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import type { AuthUser } from '../auth/auth-user.js';
import { AppException } from '../errors/app.exception.js';
import { RateLimitStore } from './rate-limit.store.js';

const MINUTE = 60_000;

/** One connection's own count of events in its current minute (kept on the connection, nowhere shared). */
export class ConnectionEventCount {
  private count = 0;
  private resetAt = 0;
  /** Events past the limit in this window: a client that keeps sending after its 429 is flooding. */
  over = 0;

  /** Counts one event; the milliseconds until the window resets when it is past `limit`, else undefined. */
  hit(limit: number, now = Date.now()): number | undefined {
    if (now >= this.resetAt) {
      this.count = 0;
      this.over = 0;
      this.resetAt = now + MINUTE;
    }
    this.count++;
    if (this.count <= limit) return undefined;
    this.over++;
    return this.resetAt - now;
  }
}

/**
 * Limits on socket events (`chat`, `resume`, `cancel` on Socket.IO, frames on
 * the plain WebSocket), counted before the event costs anything else: first
 * the connection's own count (memory), then the account's (the rate-limit
 * store: Redis when configured, so it holds across instances), and only then
 * may the gateway check the credentials against the database. The principal
 * is the one the connection authenticated with at its handshake, so no
 * lookup is needed to count. The tier's own per-minute limit is still
 * counted after that, with the database's answer, as for REST.
 */
@Injectable()
export class SocketEventLimiter {
  private readonly perSocket: number;
  private readonly perAccount: number;
  private readonly enabled: boolean;

  constructor(
    private readonly store: RateLimitStore,
    config: AppConfig,
  ) {
    this.perSocket = config.socketLimits.eventsPerSocket;
    this.perAccount = config.socketLimits.eventsPerAccount;
    this.enabled = config.rateLimitEnabled;
  }

  /** Whether a connection that got its 429 and kept sending (twice its limit) should be dropped. */
  isFlooding(count: ConnectionEventCount): boolean {
    return count.over > this.perSocket;
  }

  /**
   * Counts one event of `user` on a connection; throws 429 `rate_limited`
   * (with `retry_after`) past the connection's or the account's limit.
   */
  async consume(user: AuthUser, count: ConnectionEventCount): Promise<void> {
    this.consumeOnConnection(count);
    await this.consumeForAccount(user);
  }

  /** The connection's own limit alone (synchronous: it needs nothing but the connection). */
  consumeOnConnection(count: ConnectionEventCount): void {
    if (!this.enabled) return;
    const socketWait = count.hit(this.perSocket);
    if (socketWait !== undefined) {
      throw limited(`At most ${this.perSocket} events per minute on one connection`, socketWait);
    }
  }

  /** The account's limit alone, shared by all its connections (and instances, with Redis). */
  async consumeForAccount(user: AuthUser): Promise<void> {
    if (!this.enabled) return;
    const key = `socket-events:user:${user.id}`;
    const hit = await this.store.hit(key, MINUTE);
    if (hit.count > this.perAccount) {
      throw limited(`At most ${this.perAccount} socket events per minute per account`, hit.resetMs);
    }
  }
}

function limited(what: string, waitMs: number): AppException {
  const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
  return new AppException('rate_limited', `${what}; retry in ${retryAfter} s`, { retry_after: retryAfter });
}
