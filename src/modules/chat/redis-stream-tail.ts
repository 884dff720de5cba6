import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { ChatStreamEvent } from './chat-stream.service.js';
import { entryId, eventOf, isFinal, type RedisStreamLog } from './stream-log.js';

/** A client following a stream from another instance says so for this long, renewed while it follows. */
export const WATCH_LEASE_MS = 10_000;
/** How long one blocking read waits before the follower checks the stream still runs somewhere. */
const BLOCK_MS = 2_000;

type Entries = Array<[string, Array<[string, string[]]>]> | null;

/**
 * Following, from this instance, a stream that runs on another one: its
 * events as the owner appends them to the Redis log (XREAD BLOCK on a
 * connection of the follower's own), until the last one. While it follows,
 * the follower holds a lease in `<prefix>watch:<user>:<request id>`, so the
 * owner does not abort the stream as followed by nobody.
 */
export class RedisStreamTail {
  constructor(
    private readonly redis: Redis,
    private readonly log: RedisStreamLog,
  ) {}

  /** Whether a client on some instance follows the stream through its log now. */
  async watched(userId: string, requestId: string): Promise<boolean> {
    return (await this.redis.zcount(this.watchKey(userId, requestId), Date.now(), '+inf')) > 0;
  }

  /**
   * The events after `afterSeq` until the last one, or until `signal` (the
   * client gone). When nothing comes for a while and the stream no longer
   * runs anywhere (`running` false: its instance died), ends with an error.
   */
  async *follow(
    userId: string,
    requestId: string,
    afterSeq: number,
    signal: AbortSignal,
    running: () => Promise<boolean>,
  ): AsyncGenerator<ChatStreamEvent> {
    const watcher = randomUUID();
    const reader = this.redis.duplicate({ maxRetriesPerRequest: null });
    reader.on('error', () => undefined);
    const stop = () => reader.disconnect();
    signal.addEventListener('abort', stop);
    try {
      let last = afterSeq;
      let watchedAt = await this.watch(userId, requestId, watcher);
      while (!signal.aborted) {
        const events = await this.next(reader, userId, requestId, last);
        if (Date.now() - watchedAt > WATCH_LEASE_MS / 3)
          watchedAt = await this.watch(userId, requestId, watcher);
        if (events === null && !(await running())) {
          yield* this.orphaned(userId, requestId, last);
          return;
        }
        for (const e of events ?? []) {
          last = e.data.seq;
          yield e;
          if (isFinal(e)) return;
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      signal.removeEventListener('abort', stop);
      reader.disconnect();
      await this.redis.zrem(this.watchKey(userId, requestId), watcher).catch(() => undefined);
    }
  }

  /** Events after `last`, waiting up to BLOCK_MS for one; null when none came. */
  private async next(reader: Redis, userId: string, requestId: string, last: number) {
    const key = this.log.logKey(userId, requestId);
    const found: Entries = await reader.xread('BLOCK', BLOCK_MS, 'STREAMS', key, entryId(last));
    return found ? found[0][1].map(eventOf) : null;
  }

  /** The stream stopped running without a last event in its log: what was left of it, then an error. */
  private async *orphaned(userId: string, requestId: string, last: number): AsyncGenerator<ChatStreamEvent> {
    const rest = await this.log.read(userId, requestId, last);
    let seq = last;
    for (const e of rest?.events ?? []) {
      yield e;
      seq = e.data.seq;
      if (isFinal(e)) return;
    }
    yield {
      event: 'error',
      data: {
        seq: seq + 1,
        code: 'service_unavailable',
        message: 'The server running this stream stopped before its end; send the message again',
      },
    };
  }

  private async watch(userId: string, requestId: string, watcher: string): Promise<number> {
    const key = this.watchKey(userId, requestId);
    const now = Date.now();
    await this.redis
      .pipeline()
      .zadd(key, now + WATCH_LEASE_MS, watcher)
      .pexpire(key, WATCH_LEASE_MS)
      .exec();
    return now;
  }

  private watchKey(userId: string, requestId: string): string {
    return `${this.log.prefix}watch:${userId}:${requestId}`;
  }
}
