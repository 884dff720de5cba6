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
import { CHAT_STREAMS } from '../../common/tiers/tiers.js';
import { SocketAuthService } from '../auth/index.js';
import { type ChatStreamEvent, ChatStreamService } from './chat-stream.service.js';
import { ChatStreamRequestDto, REQUEST_ID_PATTERN } from './dto/chat.dto.js';
import { MemoryStreamSlots, StreamSlots } from './stream-slots.js';

const CANCEL_CHANNEL = 'adiuva:chat:cancel';
const RENEW_MS = 20_000;

/**
 * One running chat stream: the model call and every event it produced so far.
 * Any number of clients follow it (each from the first event); when the last
 * one leaves before the end, the model call is aborted.
 */
export class ChatRun {
  private readonly events: ChatStreamEvent[] = [];
  private readonly waiting = new Set<() => void>();
  private followers = 0;
  private finished = false;
  private markEnded!: () => void;
  /** Resolves when the stream has ended and its model call is accounted for. */
  readonly ended = new Promise<void>((resolve) => (this.markEnded = resolve));

  constructor(
    readonly userId: string,
    readonly requestId: string,
    private readonly controller: AbortController,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  push(event: ChatStreamEvent): void {
    this.events.push(event);
    this.wake();
  }

  end(): void {
    this.finished = true;
    this.wake();
  }

  /** Its slot is given back too: nothing of it is left. */
  settled(): void {
    this.markEnded();
  }

  abort(reason: string): void {
    this.controller.abort(new Error(reason));
  }

  /** Every event from the first, then the live ones, until the end or until `signal` (this client gone). */
  async *follow(signal: AbortSignal): AsyncGenerator<ChatStreamEvent> {
    this.followers++;
    try {
      for (let i = 0; ;) {
        while (i < this.events.length) yield this.events[i++];
        if (this.finished || signal.aborted) return;
        await new Promise<void>((resolve) => {
          const done = () => {
            this.waiting.delete(done);
            signal.removeEventListener('abort', done);
            resolve();
          };
          this.waiting.add(done);
          signal.addEventListener('abort', done);
        });
      }
    } finally {
      this.followers--;
      if (this.followers === 0 && !this.finished) this.abort('every client of the stream left');
    }
  }

  private wake(): void {
    for (const done of [...this.waiting]) done();
  }
}

/**
 * The chat streams running on this instance, by user and request id, for
 * every transport: a start naming a running request id attaches to it (one
 * model call); each user runs at most their tier's number of streams at once
 * (counted across instances through Redis when REDIS_URL is set); `cancel`
 * reaches the instance running the stream through Redis pub/sub.
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

  constructor(
    private readonly streams: ChatStreamService,
    private readonly slots: StreamSlots,
    private readonly redis: RedisService,
    private readonly socketAuth: SocketAuthService,
    private readonly rateLimit: RateLimitGuard,
  ) {}

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
    for (const run of runs) run?.abort('the server is shutting down');
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
    run?.abort('cancelled by the client');
    return run !== undefined;
  }

  private async open(user: AuthUser, requestId: string, dto: ChatStreamRequestDto): Promise<ChatRun> {
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
    const run = new ChatRun(user.id, requestId, new AbortController());
    void this.pump(run, user, dto);
    return run;
  }

  private async pump(run: ChatRun, user: AuthUser, dto: ChatStreamRequestDto): Promise<void> {
    try {
      // run() never throws: a failure is its last event.
      for await (const event of this.streams.run(user, dto, run.signal)) run.push(event);
    } finally {
      run.end();
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

  private async renewSlots(): Promise<void> {
    const slots = [...this.runs.keys()].map((key) => {
      const at = key.indexOf(':');
      return { userId: key.slice(0, at), requestId: key.slice(at + 1) };
    });
    await this.slots
      .renew(slots)
      .catch((err: Error) => this.logger.warn(`Stream slots not renewed: ${err.message}`));
  }
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
