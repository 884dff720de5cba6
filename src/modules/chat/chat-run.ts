import type { ErrorCode } from '../../common/errors/error-codes.js';
import type { ChatStreamEvent } from './chat-stream.service.js';

/** While a stream nobody follows here is in its grace period, how often it asks whether a client follows it elsewhere. */
export const WATCH_POLL_MS = 1_000;

/** What a run does when its last client leaves before the end. */
export interface GracePolicy {
  /** How long it runs on for a client to resume it (0: it is aborted at once). */
  graceMs: number;
  /** Whether a client on another instance follows it (through the shared log). */
  watchedElsewhere: () => Promise<boolean>;
}

/** Why a run was aborted: the code and message of its last event. */
export interface AbortCause {
  code: ErrorCode;
  message: string;
}

/**
 * One running chat stream: the model call and every event it produced so far
 * (event i has seq i). Any number of clients follow it, each from the event
 * after the seq it names; when the last one leaves before the end, the model
 * call runs on for the grace period and is aborted if nobody comes back.
 */
export class ChatRun {
  readonly events: ChatStreamEvent[] = [];
  readonly startedAt = Date.now();
  private readonly waiting = new Set<() => void>();
  private followers = 0;
  private finished = false;
  private graceTimer: NodeJS.Timeout | undefined;
  private graceEnds = 0;
  private cause: AbortCause | undefined;
  private markEnded!: () => void;
  /** Resolves when the stream has ended and its model call is accounted for. */
  readonly ended = new Promise<void>((resolve) => (this.markEnded = resolve));

  constructor(
    readonly userId: string,
    readonly requestId: string,
    private readonly controller: AbortController,
    private readonly grace: GracePolicy,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why it was aborted (a cancel, nobody resumed, shutdown), or undefined. */
  get abortCause(): AbortCause | undefined {
    return this.cause;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  push(event: ChatStreamEvent): void {
    this.events.push(event);
    this.wake();
  }

  end(): void {
    this.finished = true;
    clearTimeout(this.graceTimer);
    this.wake();
  }

  /** Its slot is given back too: nothing of it is left. */
  settled(): void {
    this.markEnded();
  }

  abort(cause: AbortCause): void {
    if (this.signal.aborted) return;
    this.cause = cause;
    clearTimeout(this.graceTimer);
    this.controller.abort(new Error(cause.message));
  }

  /** The events after `afterSeq`, then the live ones, until the end or until `signal` (this client gone). */
  async *follow(signal: AbortSignal, afterSeq = -1): AsyncGenerator<ChatStreamEvent> {
    this.followers++;
    clearTimeout(this.graceTimer);
    try {
      for (let i = Math.max(0, afterSeq + 1); ;) {
        while (i < this.events.length) yield this.events[i++];
        if (this.finished || signal.aborted) return;
        await this.nextEvent(signal);
      }
    } finally {
      this.followers--;
      if (this.followers === 0 && !this.finished) this.leftAlone();
    }
  }

  private nextEvent(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.waiting.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiting.add(done);
      signal.addEventListener('abort', done);
    });
  }

  /** Every client left: abort now, or after the grace period unless one comes back (here or elsewhere). */
  private leftAlone(): void {
    if (this.grace.graceMs <= 0) {
      return this.abort({ code: 'cancelled', message: 'Every client of the stream left' });
    }
    this.graceEnds = Date.now() + this.grace.graceMs;
    this.arm();
  }

  private arm(): void {
    const wait = Math.max(0, Math.min(WATCH_POLL_MS, this.graceEnds - Date.now()));
    this.graceTimer = setTimeout(() => void this.checkGrace(), wait);
    this.graceTimer.unref();
  }

  private async checkGrace(): Promise<void> {
    if (this.followers > 0 || this.finished) return;
    const watched = await this.grace.watchedElsewhere().catch(() => false);
    if (this.followers > 0 || this.finished) return;
    // A client following elsewhere restarts the grace period: it runs from when the last one left.
    if (watched) this.graceEnds = Date.now() + this.grace.graceMs;
    if (Date.now() < this.graceEnds) return this.arm();
    this.abort({
      code: 'cancelled',
      message: `Every client of the stream left and none resumed it within ${this.grace.graceMs} ms`,
    });
  }

  private wake(): void {
    for (const done of [...this.waiting]) done();
  }
}
