import type { Redis } from 'ioredis';

/** What asking for a stream slot found. */
export type SlotResult = 'acquired' | 'full' | 'taken';

/**
 * The chat streams each user has running, counted against the tier's cap.
 * A port: in memory (one instance) or Redis (every instance together).
 * A slot is named by the stream's request id, so a request id running on
 * another instance is told apart from a full cap (`taken`).
 */
export abstract class StreamSlots {
  abstract acquire(userId: string, requestId: string, cap: number): Promise<SlotResult>;
  abstract release(userId: string, requestId: string): Promise<void>;
  /** Keeps the named slots alive (a Redis slot is a lease that lapses if its instance dies). */
  abstract renew(slots: { userId: string; requestId: string }[]): Promise<void>;
  /** Whether the stream holds its slot (is running on some instance). */
  abstract holds(userId: string, requestId: string): Promise<boolean>;
}

export class MemoryStreamSlots extends StreamSlots {
  private readonly byUser = new Map<string, Set<string>>();

  acquire(userId: string, requestId: string, cap: number): Promise<SlotResult> {
    const slots = this.byUser.get(userId) ?? new Set<string>();
    if (slots.has(requestId)) return Promise.resolve('taken');
    if (slots.size >= cap) return Promise.resolve('full');
    slots.add(requestId);
    this.byUser.set(userId, slots);
    return Promise.resolve('acquired');
  }

  release(userId: string, requestId: string): Promise<void> {
    const slots = this.byUser.get(userId);
    slots?.delete(requestId);
    if (slots?.size === 0) this.byUser.delete(userId);
    return Promise.resolve();
  }

  renew(): Promise<void> {
    return Promise.resolve();
  }

  holds(userId: string, requestId: string): Promise<boolean> {
    return Promise.resolve(this.byUser.get(userId)?.has(requestId) ?? false);
  }
}

/** A slot lives this long unless renewed: an instance that dies frees its slots within it. */
export const SLOT_LEASE_MS = 60_000;

/**
 * Drops lapsed slots, then takes one if the request id is not already held and
 * the user is under the cap; all in one atomic step. Returns 1 acquired, 0 full, 2 taken.
 */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 2 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`;

/** One sorted set per user: member the request id, score the lease's end (ms). */
export class RedisStreamSlots extends StreamSlots {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'adiuva:chat:slots:',
  ) {
    super();
  }

  async acquire(userId: string, requestId: string, cap: number): Promise<SlotResult> {
    // Down: fail at once rather than wait out the reconnection backoff (the cap is then not applied).
    if (lost(this.redis)) throw new Error(`Redis is ${this.redis.status}`);
    const now = Date.now();
    const result = await this.redis.eval(
      ACQUIRE,
      1,
      this.prefix + userId,
      String(now),
      String(now + SLOT_LEASE_MS),
      requestId,
      String(cap),
      String(SLOT_LEASE_MS),
    );
    return result === 1 ? 'acquired' : result === 2 ? 'taken' : 'full';
  }

  async release(userId: string, requestId: string): Promise<void> {
    await this.redis.zrem(this.prefix + userId, requestId);
  }

  async renew(slots: { userId: string; requestId: string }[]): Promise<void> {
    if (slots.length === 0) return;
    const until = Date.now() + SLOT_LEASE_MS;
    const pipeline = this.redis.pipeline();
    for (const { userId, requestId } of slots) {
      pipeline.zadd(this.prefix + userId, 'XX', until, requestId);
      pipeline.pexpire(this.prefix + userId, SLOT_LEASE_MS);
    }
    await pipeline.exec();
  }

  async holds(userId: string, requestId: string): Promise<boolean> {
    const until = await this.redis.zscore(this.prefix + userId, requestId);
    return until !== null && Number(until) > Date.now();
  }
}

/** The connection was up and went away (the first connect still queues its commands). */
const lost = (redis: Redis) => ['reconnecting', 'close', 'end'].includes(redis.status);
