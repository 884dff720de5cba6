import type { Redis } from 'ioredis';
import type { ChatStreamEvent } from './chat-stream.service.js';

/** How long a stream's events are kept after its last one. */
export const RESUME_RETENTION_MS = 5 * 60_000;
/** A running stream's log lives this long unless renewed (its instance renews it; a dead one's lapses). */
export const RUNNING_LEASE_MS = 60_000;

/** A stream as `GET /chat/streams` lists it. */
export interface StreamSummary {
  request_id: string;
  state: StreamState;
  /** The seq of its last event so far (-1: none yet). */
  last_seq: number;
  started_at: number;
}

export type StreamState = 'running' | 'done' | 'cancelled' | 'error';

/** What a log holds of one stream after a seq: those events, and whether its last event is among what it holds. */
export interface LogRead {
  events: ChatStreamEvent[];
  ended: boolean;
}

export const isFinal = (e: ChatStreamEvent | undefined) => e !== undefined && e.event !== 'chunk';

/** The state a stream is in, from its last event. */
export function stateOf(last: ChatStreamEvent | undefined): StreamState {
  if (last?.event === 'done') return 'done';
  if (last?.event === 'error') return last.data.code === 'cancelled' ? 'cancelled' : 'error';
  return 'running';
}

/**
 * Where each chat stream's events are kept for a resume: the sanitized
 * events only (never the message or context), scoped to the user (another
 * user's request id is not found), until RESUME_RETENTION_MS after the end.
 * A port: in process memory (one instance, bounded) or Redis Streams (every
 * instance can serve a resume).
 */
export abstract class StreamLog {
  /** Whether another instance can serve a stream running here (and follow it while it runs). */
  abstract readonly shared: boolean;
  /** A stream starts: an earlier log under its request id is replaced. */
  abstract open(userId: string, requestId: string, startedAt: number): Promise<void>;
  /** One event, in order; not awaited by the stream (a lost append costs only a resume elsewhere). */
  abstract append(userId: string, requestId: string, event: ChatStreamEvent): void;
  /** The stream ended with `events` (all of them): keep them RESUME_RETENTION_MS. */
  abstract close(userId: string, requestId: string, events: readonly ChatStreamEvent[]): Promise<void>;
  /** The events after `afterSeq`, or undefined for a request id the log does not know (for this user). */
  abstract read(userId: string, requestId: string, afterSeq: number): Promise<LogRead | undefined>;
  /** The user's streams the log knows, running and recently finished. */
  abstract list(userId: string): Promise<StreamSummary[]>;
  /** Keeps the logs of streams running here alive. */
  abstract renew(runs: Array<{ userId: string; requestId: string }>): Promise<void>;
}

/** CHAT_RESUME=false: nothing is kept. */
export class NoStreamLog extends StreamLog {
  readonly shared = false;
  open(): Promise<void> {
    return Promise.resolve();
  }
  append(): void {}
  close(): Promise<void> {
    return Promise.resolve();
  }
  read(): Promise<LogRead | undefined> {
    return Promise.resolve(undefined);
  }
  list(): Promise<StreamSummary[]> {
    return Promise.resolve([]);
  }
  renew(): Promise<void> {
    return Promise.resolve();
  }
}

/** What the memory log keeps at most: finished streams per user, and bytes (estimated) in all. */
export interface MemoryLogLimits {
  perUser: number;
  totalBytes: number;
}

export const DEFAULT_MEMORY_LOG_LIMITS: MemoryLogLimits = { perUser: 20, totalBytes: 32 * 1024 * 1024 };

interface Kept {
  userId: string;
  events: readonly ChatStreamEvent[];
  bytes: number;
  startedAt: number;
  endedAt: number;
}

/**
 * Finished streams in this process's memory (running ones are the runs'
 * own). Bounded: past `perUser` finished streams of one user, or past
 * `totalBytes` in all, the oldest finished ones are dropped first.
 */
export class MemoryStreamLog extends StreamLog {
  readonly shared = false;
  /** In the order they finished, so the oldest are first. */
  private readonly kept = new Map<string, Kept>();
  private readonly byUser = new Map<string, Set<string>>();
  private readonly started = new Map<string, number>();
  private bytes = 0;

  constructor(
    readonly limits: MemoryLogLimits = DEFAULT_MEMORY_LOG_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  /** Bytes kept (an estimate of the events' size in memory) and finished streams kept. */
  get usage(): { bytes: number; streams: number } {
    return { bytes: this.bytes, streams: this.kept.size };
  }

  open(userId: string, requestId: string, startedAt: number): Promise<void> {
    const key = logKey(userId, requestId);
    this.drop(key);
    this.started.set(key, startedAt);
    return Promise.resolve();
  }

  append(): void {}

  close(userId: string, requestId: string, events: readonly ChatStreamEvent[]): Promise<void> {
    const key = logKey(userId, requestId);
    const startedAt = this.started.get(key) ?? this.now();
    this.started.delete(key);
    this.drop(key);
    const bytes = events.reduce((sum, e) => sum + sizeOf(e), 0);
    this.kept.set(key, { userId, events, bytes, startedAt, endedAt: this.now() });
    const own = this.byUser.get(userId) ?? new Set<string>();
    own.add(key);
    this.byUser.set(userId, own);
    this.bytes += bytes;
    this.evict(own);
    return Promise.resolve();
  }

  read(userId: string, requestId: string, afterSeq: number): Promise<LogRead | undefined> {
    this.expire();
    const kept = this.kept.get(logKey(userId, requestId));
    if (!kept) return Promise.resolve(undefined);
    return Promise.resolve({ events: kept.events.slice(Math.max(0, afterSeq + 1)), ended: true });
  }

  list(userId: string): Promise<StreamSummary[]> {
    this.expire();
    const keys = [...(this.byUser.get(userId) ?? [])];
    return Promise.resolve(
      keys.map((key) => {
        const kept = this.kept.get(key)!;
        const last = kept.events.at(-1);
        return {
          request_id: key.slice(userId.length + 1),
          state: stateOf(last),
          last_seq: kept.events.length - 1,
          started_at: kept.startedAt,
        };
      }),
    );
  }

  renew(): Promise<void> {
    return Promise.resolve();
  }

  private evict(own: Set<string>): void {
    this.expire();
    while (own.size > this.limits.perUser) this.drop(own.values().next().value!);
    while (this.bytes > this.limits.totalBytes && this.kept.size > 0)
      this.drop(this.kept.keys().next().value!);
  }

  /** Drops what finished more than RESUME_RETENTION_MS ago (the oldest are first). */
  private expire(): void {
    const before = this.now() - RESUME_RETENTION_MS;
    for (const [key, kept] of this.kept) {
      if (kept.endedAt > before) break;
      this.drop(key);
    }
  }

  private drop(key: string): void {
    const kept = this.kept.get(key);
    if (!kept) return;
    this.kept.delete(key);
    this.bytes -= kept.bytes;
    const own = this.byUser.get(kept.userId);
    own?.delete(key);
    if (own?.size === 0) this.byUser.delete(kept.userId);
  }
}

/** A rough size of an event held in memory: its JSON as UTF-16, plus the objects around it. */
function sizeOf(event: ChatStreamEvent): number {
  const text = event.event === 'chunk' ? event.data.text.length + 16 : JSON.stringify(event.data).length;
  return 2 * text + 96;
}

const logKey = (userId: string, requestId: string) => `${userId}:${requestId}`;

/**
 * Redis Streams: one stream per chat stream, `<prefix>log:<user>:<request id>`,
 * entry ids `0-<seq + 2>` (so a resume reads from an id, and `0-1` marks the
 * start) with the event's JSON in field `e`; one XADD per event. A sorted set
 * per user (`<prefix>index:<user>`, score the start) lists them. A running
 * stream's log is a lease its instance renews; at the end it expires
 * RESUME_RETENTION_MS later.
 */
export class RedisStreamLog extends StreamLog {
  readonly shared = true;

  constructor(
    private readonly redis: Redis,
    readonly prefix = 'adiuva:chat:',
  ) {
    super();
  }

  logKey(userId: string, requestId: string): string {
    return `${this.prefix}log:${userId}:${requestId}`;
  }

  private indexKey(userId: string): string {
    return `${this.prefix}index:${userId}`;
  }

  async open(userId: string, requestId: string, startedAt: number): Promise<void> {
    const log = this.logKey(userId, requestId);
    await this.redis
      .multi()
      .del(log)
      .xadd(log, '0-1', 'o', String(startedAt))
      .pexpire(log, RUNNING_LEASE_MS)
      .zadd(this.indexKey(userId), startedAt, requestId)
      .pexpire(this.indexKey(userId), RESUME_RETENTION_MS)
      .exec();
  }

  append(userId: string, requestId: string, event: ChatStreamEvent): void {
    this.redis
      .xadd(this.logKey(userId, requestId), entryId(event.data.seq), 'e', JSON.stringify(event))
      .catch(() => undefined);
  }

  async close(userId: string, requestId: string): Promise<void> {
    await this.redis
      .pipeline()
      .pexpire(this.logKey(userId, requestId), RESUME_RETENTION_MS)
      .pexpire(this.indexKey(userId), RESUME_RETENTION_MS)
      .exec();
  }

  async read(userId: string, requestId: string, afterSeq: number): Promise<LogRead | undefined> {
    const log = this.logKey(userId, requestId);
    const results = await this.redis
      .pipeline()
      .xrevrange(log, '+', '-', 'COUNT', 1)
      .xrange(log, entryId(Math.max(-1, afterSeq) + 1), '+')
      .exec();
    const [last, after] = (results ?? []).map(([err, value]) => {
      if (err) throw err;
      return value as Array<[string, string[]]>;
    });
    if (!last?.length) return undefined;
    const ended = last[0][0] !== entryId(-1) && isFinal(eventOf(last[0]));
    return { events: after.map(eventOf), ended };
  }

  async list(userId: string): Promise<StreamSummary[]> {
    const index = this.indexKey(userId);
    const members = await this.redis.zrange(index, 0, -1, 'WITHSCORES');
    const ids = members.filter((_, i) => i % 2 === 0);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.xrevrange(this.logKey(userId, id), '+', '-', 'COUNT', 1);
    const lasts = (await pipeline.exec()) ?? [];
    const summaries: StreamSummary[] = [];
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const [entry] = (lasts[i]?.[1] as Array<[string, string[]]> | undefined) ?? [];
      if (!entry) return void gone.push(id);
      const last = entry[0] === entryId(-1) ? undefined : eventOf(entry);
      const started = Number(members[2 * i + 1]);
      summaries.push({ request_id: id, state: stateOf(last), last_seq: seqOf(entry), started_at: started });
    });
    if (gone.length) await this.redis.zrem(index, ...gone);
    return summaries;
  }

  async renew(runs: Array<{ userId: string; requestId: string }>): Promise<void> {
    if (runs.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const { userId, requestId } of runs) {
      pipeline.pexpire(this.logKey(userId, requestId), RUNNING_LEASE_MS);
      pipeline.pexpire(this.indexKey(userId), RESUME_RETENTION_MS);
    }
    await pipeline.exec();
  }
}

/** The entry id of an event's seq (`0-1` is the start marker, seq -1). */
export const entryId = (seq: number) => `0-${seq + 2}`;
export const seqOf = ([id]: [string, string[]]) => Number(id.slice(2)) - 2;

/** An entry's event (field `e`, the only field but the start marker's `o`). */
export function eventOf([, fields]: [string, string[]]): ChatStreamEvent {
  return JSON.parse(fields[fields.indexOf('e') + 1]) as ChatStreamEvent;
}
