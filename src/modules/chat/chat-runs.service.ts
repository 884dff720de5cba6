import { type BeforeApplicationShutdown, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { AppException } from '../../common/errors/app.exception.js';
import { findInputProblem } from '../../common/input/input-limits.js';
import { RateLimitGuard } from '../../common/rate-limit/rate-limit.guard.js';
import { RedisService } from '../../common/redis/redis.service.js';
import type { Tier } from '../../common/tiers/tiers.js';
import { AppConfig } from '../../config/app-config.js';
import { SocketAuthService } from '../auth/index.js';
import { type AbortCause, ChatRun, type GracePolicy } from './chat-run.js';
import { type ChatStreamEvent, ChatStreamService } from './chat-stream.service.js';
import { ChatStreamRequestDto, REQUEST_ID_PATTERN } from './dto/chat.dto.js';
import { RedisStreamTail } from './redis-stream-tail.js';
import { RedisStreamLog, StreamLog, type StreamSummary } from './stream-log.js';
import { MemoryStreamSlots, StreamSlots } from './stream-slots.js';

/** What a client follows: a stream running here, or the log of one (finished, or running elsewhere). */
export interface StreamFeed {
  follow(signal: AbortSignal): AsyncIterable<ChatStreamEvent>;
}

/** Chat streams one user may have running at once (every instance together), by tier. */
const CHAT_STREAMS: Readonly<Record<Tier, number>> = { free: 1, pro: 3, power: 5, team: 10 };
const CANCEL_CHANNEL = 'adiuva:chat:cancel';
const RENEW_MS = 20_000;

/**
 * The chat streams running on this instance, by user and request id, for
 * every transport: a start naming a running request id attaches to it (one
 * model call); each user runs at most their tier's number of streams at once
 * (counted across instances through Redis when REDIS_URL is set); `cancel`
 * reaches the instance running the stream through Redis pub/sub. Every event
 * also goes to the stream log, so a client that lost its connection resumes
 * after the last seq it got: here from the run, elsewhere from the log.
 * A stream every client left runs on for the grace period (CHAT_RESUME_GRACE_MS).
 */
@Injectable()
export class ChatRunsService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('ChatRuns');
  private readonly runs = new Map<string, Promise<ChatRun>>();
  /** Slots counted in this instance while the shared ones (Redis) are unreachable, and the runs holding one. */
  private readonly localSlots = new MemoryStreamSlots();
  private readonly local = new Set<string>();
  private subscriber: Redis | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  /** Following a stream that runs on another instance (a shared log only). */
  private readonly tail: RedisStreamTail | undefined;
  private readonly graceMs: number;

  constructor(
    private readonly streams: ChatStreamService,
    private readonly slots: StreamSlots,
    private readonly redis: RedisService,
    private readonly socketAuth: SocketAuthService,
    private readonly rateLimit: RateLimitGuard,
    private readonly log: StreamLog,
    config: AppConfig,
  ) {
    this.graceMs = config.chatResume.enabled ? config.chatResume.graceMs : 0;
    if (log instanceof RedisStreamLog && redis.client) this.tail = new RedisStreamTail(redis.client, log);
  }

  onModuleInit(): void {
    this.renewTimer = setInterval(() => void this.renewSlots(), RENEW_MS);
    this.renewTimer.unref();
    if (!this.redis.client) return;
    // The subscription is made (and remade after a reconnect) by ioredis; starting never waits on Redis.
    this.subscriber = this.redis.client.duplicate({ maxRetriesPerRequest: null });
    this.subscriber.on('error', (err: Error) => this.logger.warn(`Redis subscriber error: ${err.message}`));
    this.subscriber.on('message', (_channel: string, message: string) => {
      try {
        const { userId, requestId } = JSON.parse(message) as { userId?: unknown; requestId?: unknown };
        if (typeof userId === 'string' && typeof requestId === 'string')
          void this.abortLocal(userId, requestId);
      } catch {
        this.logger.warn('Ignored a malformed cancel message');
      }
    });
    this.subscriber
      .subscribe(CANCEL_CHANNEL)
      .catch((err: Error) => this.logger.warn(`Cancels from other instances not received: ${err.message}`));
  }

  /**
   * Before the database and Redis connections close: abort every stream and wait (at most 5 s)
   * for each to record its usage and give back its slot.
   */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.renewTimer);
    const runs = await Promise.all([...this.runs.values()].map((r) => r.catch(() => undefined)));
    const cause: AbortCause = {
      code: 'service_unavailable',
      message: 'The server is shutting down; send the message again',
    };
    for (const run of runs) run?.abort(cause);
    const ended = Promise.all(runs.map((run) => run?.ended ?? Promise.resolve()));
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    // A subscriber has nothing to flush: cut it (quit would wait on a Redis that is away).
    this.subscriber?.disconnect();
  }

  /**
   * Starts the stream `requestId` names (a new UUID when absent), or returns the
   * one already running for this user under that id. 429 `rate_limited` when
   * the user already runs as many streams as the tier allows.
   */
  start(user: AuthUser, dto: ChatStreamRequestDto): Promise<ChatRun> {
    const requestId = dto.request_id ?? randomUUID();
    const key = runKey(user.id, requestId);
    const running = this.runs.get(key);
    if (running) return running;
    const starting = this.open(user, requestId, dto);
    this.runs.set(key, starting);
    starting.catch(() => this.runs.delete(key));
    return starting;
  }

  /**
   * A `chat` message from a socket (Socket.IO or WebSocket): the session and
   * tier checked again, the rate limit counted as for a REST request, the body
   * validated as POST /chat/stream validates it; then `start`.
   */
  async startFromSocket(token: string | undefined, payload: unknown): Promise<ChatRun> {
    const user = await this.socketAuth.authenticate(token);
    await this.rateLimit.consumeForUser(user);
    const dto = await parseChatStreamRequest(payload);
    await this.streams.assertCanStream(user, dto);
    return this.start(user, dto);
  }

  /** A `resume` from a socket: credentials and rate limit as for `chat`; then `resume`. */
  async resumeFromSocket(token: string | undefined, payload: unknown): Promise<StreamFeed> {
    const user = await this.socketAuth.authenticate(token);
    await this.rateLimit.consumeForUser(user);
    const { requestId, afterSeq } = parseResumeRequest(payload);
    return this.resume(user.id, requestId, afterSeq);
  }

  /**
   * The user's stream `requestId` from the event after `afterSeq` (-1: from
   * the start): live from the run when it runs here, else from the log (up to
   * its end, or following it while it runs on another instance). 404
   * `not_found` for a request id unknown, expired or another user's.
   */
  async resume(userId: string, requestId: string, afterSeq: number): Promise<StreamFeed> {
    const run = await this.runs.get(runKey(userId, requestId))?.catch(() => undefined);
    if (run) return { follow: (signal) => run.follow(signal, afterSeq) };
    const kept = await this.log.read(userId, requestId, afterSeq);
    if (!kept) throw new AppException('not_found', `No stream ${requestId} to resume`);
    const tail = this.tail;
    if (kept.ended || !tail) return { follow: () => concat(kept.events, []) };
    const last = kept.events.at(-1)?.data.seq ?? afterSeq;
    const running = () => this.slots.holds(userId, requestId).catch(() => true);
    return {
      follow: (signal) => concat(kept.events, tail.follow(userId, requestId, last, signal, running)),
    };
  }

  /** The user's streams running (anywhere) and finished within the log's retention, newest first. */
  async list(userId: string): Promise<StreamSummary[]> {
    const listed = await this.log.list(userId).catch((err: Error) => {
      this.logger.warn(`Stream log not listed: ${err.message}`);
      return [];
    });
    const byId = new Map(listed.map((s) => [s.request_id, s]));
    for (const [key, pending] of this.runs) {
      if (!key.startsWith(`${userId}:`)) continue;
      const run = await pending.catch(() => undefined);
      if (!run || run.isFinished) continue;
      const last_seq = run.events.length - 1;
      byId.set(run.requestId, {
        request_id: run.requestId,
        state: 'running',
        last_seq,
        started_at: run.startedAt,
      });
    }
    return [...byId.values()].sort((a, b) => b.started_at - a.started_at);
  }

  /** Aborts the user's stream `requestId` wherever it runs. Another user's id finds nothing. */
  async cancel(userId: string, requestId: string): Promise<void> {
    if (await this.abortLocal(userId, requestId)) return;
    if (this.redis.client) {
      await this.redis.client
        .publish(CANCEL_CHANNEL, JSON.stringify({ userId, requestId }))
        .catch((err: Error) => this.logger.warn(`Cancel not sent to other instances: ${err.message}`));
    }
  }

  private async abortLocal(userId: string, requestId: string): Promise<boolean> {
    const run = await this.runs.get(runKey(userId, requestId))?.catch(() => undefined);
    run?.abort({ code: 'cancelled', message: 'The stream was cancelled' });
    return run !== undefined;
  }

  private async open(user: AuthUser, requestId: string, dto: ChatStreamRequestDto): Promise<ChatRun> {
    await this.acquireSlot(user, requestId);
    const run = new ChatRun(user.id, requestId, new AbortController(), this.gracePolicy(user.id, requestId));
    await this.log
      .open(user.id, requestId, run.startedAt)
      .catch((err: Error) => this.logger.warn(`Stream log not opened: ${err.message}`));
    void this.pump(run, user, dto);
    return run;
  }

  private gracePolicy(userId: string, requestId: string): GracePolicy {
    const tail = this.tail;
    return {
      graceMs: this.graceMs,
      watchedElsewhere: () => (tail ? tail.watched(userId, requestId) : Promise.resolve(false)),
    };
  }

  private async acquireSlot(user: AuthUser, requestId: string): Promise<void> {
    const cap = CHAT_STREAMS[user.tier];
    let slot: Awaited<ReturnType<StreamSlots['acquire']>>;
    try {
      slot = await this.slots.acquire(user.id, requestId, cap);
    } catch (err) {
      // Shared slots unreachable (Redis down): count this instance's streams instead, like the rate limits.
      this.logger.warn(
        `Stream caps counted per instance, the shared slots failed: ${(err as Error).message}`,
      );
      slot = await this.localSlots.acquire(user.id, requestId, cap);
      if (slot === 'acquired') this.local.add(runKey(user.id, requestId));
    }
    if (slot === 'taken') {
      throw new AppException('duplicate', `request_id ${requestId} is already streaming on another instance`);
    }
    if (slot === 'full') {
      throw new AppException(
        'rate_limited',
        `At most ${cap} chat stream${cap === 1 ? '' : 's'} can run at once on the ${user.tier} tier; ` +
          'wait for one to end or cancel one',
        { retry_after: 1 },
      );
    }
  }

  private async pump(run: ChatRun, user: AuthUser, dto: ChatStreamRequestDto): Promise<void> {
    try {
      // run() never throws: a failure is its last event.
      for await (const event of this.streams.run(user, dto, run.signal)) this.record(run, event);
    } finally {
      run.end();
      await this.log
        .close(run.userId, run.requestId, run.events)
        .catch((err: Error) => this.logger.warn(`Stream log not closed: ${err.message}`));
      // The slot first: until it is free, a start with this request id attaches here (and replays).
      const key = runKey(run.userId, run.requestId);
      if (this.local.delete(key)) await this.localSlots.release(run.userId, run.requestId);
      else
        await this.slots
          .release(run.userId, run.requestId)
          .catch((err: Error) => this.logger.warn(`Stream slot not released: ${err.message}`));
      this.runs.delete(key);
      run.settled();
    }
  }

  /** An event to the clients and the log; the error ending an aborted run says why (`cancelled`, …). */
  private record(run: ChatRun, event: ChatStreamEvent): void {
    const cause = run.abortCause;
    const e: ChatStreamEvent =
      event.event === 'error' && cause ? { event: 'error', data: { ...cause, seq: event.data.seq } } : event;
    run.push(e);
    this.log.append(run.userId, run.requestId, e);
  }

  private async renewSlots(): Promise<void> {
    const slots = [...this.runs.keys()].map((key) => {
      const at = key.indexOf(':');
      return { userId: key.slice(0, at), requestId: key.slice(at + 1) };
    });
    await this.slots
      .renew(slots)
      .catch((err: Error) => this.logger.warn(`Stream slots not renewed: ${err.message}`));
    await this.log
      .renew(slots)
      .catch((err: Error) => this.logger.warn(`Stream logs not renewed: ${err.message}`));
  }
}

async function* concat(
  first: ChatStreamEvent[],
  then: AsyncIterable<ChatStreamEvent> | Iterable<ChatStreamEvent>,
): AsyncGenerator<ChatStreamEvent> {
  yield* first;
  yield* then;
}

/** `{request_id, after_seq}` of a resume; 400 `validation_failed` otherwise. */
export function parseResumeRequest(payload: unknown): { requestId: string; afterSeq: number } {
  const { request_id: requestId, after_seq: afterSeq } = (payload ?? {}) as Record<string, unknown>;
  if (typeof requestId !== 'string' || !REQUEST_ID_PATTERN.test(requestId)) {
    throw new AppException('validation_failed', [
      'request_id must be 1-128 characters of A-Z a-z 0-9 . _ : -',
    ]);
  }
  return { requestId, afterSeq: parseAfterSeq(afterSeq, 'after_seq') };
}

/** The seq a client got last (-1 or absent: none), as a number or a header's digits. */
export function parseAfterSeq(value: unknown, name: string): number {
  if (value === undefined || value === null || value === '') return -1;
  const seq = typeof value === 'string' && /^-?\d{1,15}$/.test(value.trim()) ? Number(value) : value;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < -1) {
    throw new AppException('validation_failed', [
      `${name} must be an integer of -1 or more (the last seq you got)`,
    ]);
  }
  return seq;
}

const runKey = (userId: string, requestId: string) => `${userId}:${requestId}`;

/** The request id a socket message names, if it is a valid one (to label its error). */
export function requestIdOf(payload: unknown): string | undefined {
  const id = (payload as { request_id?: unknown } | null)?.request_id;
  return typeof id === 'string' && REQUEST_ID_PATTERN.test(id) ? id : undefined;
}

/** A socket message as a ChatStreamRequest, validated like a REST body; 400 `validation_failed` otherwise. */
export async function parseChatStreamRequest(payload: unknown): Promise<ChatStreamRequestDto> {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new AppException('validation_failed', 'a chat message must be a JSON object (a ChatRequest)');
  }
  const problem = findInputProblem(payload, 'chat');
  if (problem) throw new AppException('validation_failed', problem.message);
  const dto = plainToInstance(ChatStreamRequestDto, payload);
  const errors = await validate(dto, { whitelist: true });
  if (errors.length > 0) {
    throw new AppException(
      'validation_failed',
      errors.flatMap((e) => Object.values(e.constraints ?? {})),
    );
  }
  return dto;
}
