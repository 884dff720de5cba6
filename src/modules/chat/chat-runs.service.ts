import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
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
import { SocketAuthService } from '../auth/socket-auth.service.js';
import { type ChatStreamEvent, ChatStreamService } from './chat-stream.service.js';
import { ChatStreamRequestDto, REQUEST_ID_PATTERN } from './dto/chat.dto.js';
import { StreamSlots } from './stream-slots.js';

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
  private ended = false;

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
    this.ended = true;
    this.wake();
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
        if (this.ended || signal.aborted) return;
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
      if (this.followers === 0 && !this.ended) this.abort('every client of the stream left');
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
export class ChatRunsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ChatRuns');
  private readonly runs = new Map<string, Promise<ChatRun>>();
  private subscriber: Redis | undefined;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly streams: ChatStreamService,
    private readonly slots: StreamSlots,
    private readonly redis: RedisService,
    private readonly socketAuth: SocketAuthService,
    private readonly rateLimit: RateLimitGuard,
  ) {}

  async onModuleInit(): Promise<void> {
    this.renewTimer = setInterval(() => void this.renewSlots(), RENEW_MS);
    this.renewTimer.unref();
    if (!this.redis.client) return;
    this.subscriber = this.redis.client.duplicate();
    this.subscriber.on('error', (err: Error) => this.logger.warn(`Redis subscriber error: ${err.message}`));
    this.subscriber.on('message', (_channel: string, message: string) => {
      const { userId, requestId } = JSON.parse(message) as { userId: string; requestId: string };
      void this.abortLocal(userId, requestId);
    });
    await this.subscriber.subscribe(CANCEL_CHANNEL);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.renewTimer);
    for (const run of this.runs.values()) void run.then((r) => r.abort('the server is shutting down'));
    if (this.subscriber) await this.subscriber.quit().catch(() => undefined);
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
    this.streams.assertCanStream(dto);
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
      // Counters unreachable (Redis down): serve the stream rather than fail it; readiness reports it.
      this.logger.warn(`Stream cap not applied, slot store failed: ${(err as Error).message}`);
      slot = 'acquired';
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
      this.runs.delete(runKey(run.userId, run.requestId));
      await this.slots
        .release(run.userId, run.requestId)
        .catch((err: Error) => this.logger.warn(`Stream slot not released: ${err.message}`));
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
