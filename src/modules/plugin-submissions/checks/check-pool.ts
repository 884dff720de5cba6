import { Logger } from '@nestjs/common';
import { Worker } from 'node:worker_threads';
import { interruptedReport } from './report.js';
import { sharedView } from './shared-bytes.js';
import type { ChecksInput, ChecksProgress, ChecksReport, PackageLimits } from './types.js';
import { checkWorkerFileOrThrow } from './worker-file.js';

/** Time the worker is given past its own deadline to answer before it is terminated. */
export const HARD_DEADLINE_GRACE_MS = 1_000;
/**
 * The worker's heap: more than a 50 MiB package unpacked needs as text, and a bound on what a hostile
 * one can make it take (past it the worker dies, the check is errored, the API lives on).
 */
const WORKER_HEAP_MB = 512;

export interface CheckPoolOptions {
  /** Worker threads at most; each starts with the first job that needs it. */
  size: number;
  /** Jobs waiting for a worker at most; one more is refused (CheckQueueFullError). */
  maxQueued: number;
  /**
   * Jobs of one account waiting at most (its running one aside); one more is refused
   * (AccountQueueFullError), so one account cannot fill the queue. Unbounded (up to maxQueued) when unset.
   */
  maxQueuedPerAccount?: number;
  /** The checks' deadline, counted from when a worker takes the job (not while it waits). */
  timeoutMs: number;
  limits?: PackageLimits;
  /** Tests only: a module URL whose `scanners` export replaces the worker's scanners. */
  scannersModule?: string;
}

/** What the pool posts to a worker. */
export interface CheckJob {
  id: number;
  input: Omit<ChecksInput, 'packageBytes'> & { packageBytes: Uint8Array };
  timeoutMs: number;
  limits?: PackageLimits;
}

export interface CheckWorkerData {
  scannersModule?: string;
}

/** What a worker posts back. */
export type FromCheckWorker =
  | { type: 'ready' }
  | { type: 'progress'; id: number; progress: ChecksProgress }
  | { type: 'report'; id: number; report: ChecksReport };

/** Every worker is busy and the queue is full: the caller answers 503 with Retry-After. */
export class CheckQueueFullError extends Error {
  constructor() {
    super('the submission checks are busy');
    this.name = 'CheckQueueFullError';
  }
}

/** One account already has as many jobs waiting as it may: the caller answers 429 with Retry-After. */
export class AccountQueueFullError extends Error {
  constructor() {
    super('this account has too many submissions being checked');
    this.name = 'AccountQueueFullError';
  }
}

/** Whose turn a job waits for: its account, or (a job run for nobody in particular) its own id. */
type Owner = string | number;

interface QueuedJob {
  id: number;
  owner: Owner;
  input: ChecksInput;
  resolve: (report: ChecksReport) => void;
  progress?: ChecksProgress;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: QueuedJob;
  timer?: NodeJS.Timeout;
}

/**
 * Runs submission checks on worker threads, so a big package's seconds of CPU (unzip with CRCs,
 * secretlint's regular expressions, the entropy rule) never stall the API. Jobs wait in a bounded
 * queue that is fair between accounts: each account's jobs run in order, one at a time (an account
 * holds at most one worker), and accounts take turns, so a flood of submissions from one account
 * delays that account only; jobs given no account are each their own (FIFO among them). Each run has a hard deadline: past timeoutMs (plus a grace for the worker to answer
 * after its own deadline) the worker is terminated, so even one synchronous regex pass stops, and a
 * new one takes its place. A run stopped that way is `check_timeout`, one whose worker died
 * `check_errored`: never a pass.
 */
export class CheckPool {
  private readonly logger = new Logger('CheckPool');
  private readonly slots = new Set<Slot>();
  /** Waiting jobs of each owner, in order; `turns` is the order owners with waiting jobs are served in. */
  private readonly waiting = new Map<Owner, QueuedJob[]>();
  private readonly turns: Owner[] = [];
  /** Owners with a job on a worker. */
  private readonly running = new Set<Owner>();
  private queued = 0;
  private workerFile?: string;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: CheckPoolOptions) {}

  /**
   * The report of `input`'s checks, run in `account`'s turn. Rejects with CheckQueueFullError when
   * the queue is full, AccountQueueFullError when the account's share of it is.
   */
  async run(input: ChecksInput, account?: string): Promise<ChecksReport> {
    if (this.closed) throw new Error('the check pool is closed');
    if (this.queued >= this.options.maxQueued) throw new CheckQueueFullError();
    const bound = this.options.maxQueuedPerAccount;
    if (account !== undefined && bound !== undefined && (this.waiting.get(account)?.length ?? 0) >= bound) {
      throw new AccountQueueFullError();
    }
    this.workerFile ??= checkWorkerFileOrThrow();
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.enqueue({ id, owner: account ?? id, input, resolve });
      this.dispatch();
    });
  }

  /** Workers running, busy, and jobs waiting (for tests and diagnostics). */
  get stats(): { workers: number; busy: number; queued: number } {
    const busy = [...this.slots].filter((slot) => slot.job).length;
    return { workers: this.slots.size, busy, queued: this.queued };
  }

  /** Terminates every worker; running and waiting jobs end as errored. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = [...this.slots];
    for (let job = this.next(); job; job = this.next())
      job.resolve(interruptedReport(undefined, 'worker_exit'));
    for (const slot of slots) {
      const job = this.retire(slot);
      job?.resolve(interruptedReport(job.progress, 'worker_exit'));
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  private enqueue(job: QueuedJob): void {
    const jobs = this.waiting.get(job.owner);
    if (jobs) jobs.push(job);
    else {
      this.waiting.set(job.owner, [job]);
      this.turns.push(job.owner);
    }
    this.queued += 1;
  }

  /**
   * The next job to run: the first waiting one of the first owner in turn that has none running.
   * That owner goes to the back of the turns (or leaves them, its jobs all taken).
   */
  private next(): QueuedJob | undefined {
    const turn = this.turns.findIndex((owner) => !this.running.has(owner));
    if (turn < 0) return undefined;
    const [owner] = this.turns.splice(turn, 1);
    const jobs = this.waiting.get(owner)!;
    const job = jobs.shift()!;
    if (jobs.length > 0) this.turns.push(owner);
    else this.waiting.delete(owner);
    this.queued -= 1;
    return job;
  }

  /** The owner's job ended: its next one waits behind every other owner's. */
  private finished(owner: Owner): void {
    this.running.delete(owner);
    const turn = this.turns.indexOf(owner);
    if (turn >= 0) this.turns.push(...this.turns.splice(turn, 1));
  }

  /** Owners whose next job could start now. */
  private runnable(): number {
    return this.turns.filter((owner) => !this.running.has(owner)).length;
  }

  /** Hands waiting jobs to idle workers, and starts workers (up to size) for the rest. */
  private dispatch(): void {
    for (const slot of this.slots) {
      const job = slot.ready && !slot.job ? this.next() : undefined;
      if (job) this.start(slot, job);
    }
    const starting = [...this.slots].filter((slot) => !slot.ready).length;
    for (let more = this.runnable() - starting; more > 0 && this.slots.size < this.options.size; more--) {
      this.spawn();
    }
  }

  private spawn(): void {
    const worker = new Worker(this.workerFile!, {
      workerData: { scannersModule: this.options.scannersModule } satisfies CheckWorkerData,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    // An idle worker does not keep the process alive; a running job's deadline timer does.
    worker.unref();
    const slot: Slot = { worker, ready: false };
    this.slots.add(slot);
    worker.on('message', (message: FromCheckWorker) => this.onMessage(slot, message));
    // Its name and stack frames only: a message may quote the package.
    worker.on('error', (error) =>
      this.logger.error(
        `a checks worker failed: ${error.name}`,
        error.stack?.split('\n').slice(1).join('\n'),
      ),
    );
    worker.on('exit', (code) => this.onExit(slot, code));
  }

  private start(slot: Slot, job: QueuedJob): void {
    slot.job = job;
    this.running.add(job.owner);
    slot.timer = setTimeout(() => this.expire(slot), this.options.timeoutMs + HARD_DEADLINE_GRACE_MS);
    const { packageBytes, ...input } = job.input;
    const message: CheckJob = {
      id: job.id,
      input: { ...input, packageBytes: sharedView(packageBytes) },
      timeoutMs: this.options.timeoutMs,
      limits: this.options.limits,
    };
    slot.worker.postMessage(message);
  }

  private onMessage(slot: Slot, message: FromCheckWorker): void {
    if (message.type === 'ready') {
      slot.ready = true;
    } else if (slot.job?.id !== message.id) {
      return;
    } else if (message.type === 'progress') {
      slot.job.progress = message.progress;
      return;
    } else {
      const job = slot.job;
      clearTimeout(slot.timer);
      slot.job = undefined;
      this.finished(job.owner);
      job.resolve(message.report);
    }
    this.dispatch();
  }

  /** The hard deadline: terminate the worker (whatever it is stuck in), report, replace it. */
  private expire(slot: Slot): void {
    const job = this.retire(slot);
    void slot.worker.terminate();
    this.logger.warn('a submission check passed its deadline: its worker was terminated');
    job?.resolve(interruptedReport(job.progress, 'timeout'));
    this.replace();
  }

  private onExit(slot: Slot, code: number): void {
    if (!this.slots.has(slot)) return;
    const wasReady = slot.ready;
    const job = this.retire(slot);
    this.logger.error(`a checks worker exited (code ${code})${job ? ' during a check' : ''}`);
    if (job) job.resolve(interruptedReport(job.progress, 'worker_exit'));
    // One that never started would fail again: the job it was started for fails instead of looping.
    else if (!wasReady) this.next()?.resolve(interruptedReport(undefined, 'worker_exit'));
    if (wasReady) this.replace();
    else this.dispatch();
  }

  /** Takes the slot out of the pool; answers the job it was running. */
  private retire(slot: Slot): QueuedJob | undefined {
    this.slots.delete(slot);
    clearTimeout(slot.timer);
    const job = slot.job;
    slot.job = undefined;
    if (job) this.finished(job.owner);
    return job;
  }

  /** A worker stopped: another starts at once (unless closing), so the next job does not wait for one. */
  private replace(): void {
    if (this.closed) return;
    if (this.slots.size < this.options.size) this.spawn();
    this.dispatch();
  }
}
