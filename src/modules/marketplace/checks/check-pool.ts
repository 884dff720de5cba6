import { Logger } from '@nestjs/common';
import { Worker } from 'node:worker_threads';
import { interruptedReport } from './run-checks.js';
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

interface QueuedJob {
  id: number;
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
 * FIFO queue. Each run has a hard deadline: past timeoutMs (plus a grace for the worker to answer
 * after its own deadline) the worker is terminated, so even one synchronous regex pass stops, and a
 * new one takes its place. A run stopped that way is `check_timeout`, one whose worker died
 * `check_errored`: never a pass.
 */
export class CheckPool {
  private readonly logger = new Logger('CheckPool');
  private readonly slots = new Set<Slot>();
  private readonly queue: QueuedJob[] = [];
  private workerFile?: string;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: CheckPoolOptions) {}

  /** The report; rejects with CheckQueueFullError when the queue is full. */
  async run(input: ChecksInput): Promise<ChecksReport> {
    if (this.closed) throw new Error('the check pool is closed');
    if (this.queue.length >= this.options.maxQueued) throw new CheckQueueFullError();
    this.workerFile ??= checkWorkerFileOrThrow();
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, input, resolve });
      this.dispatch();
    });
  }

  /** Workers running, busy, and jobs waiting (for tests and diagnostics). */
  get stats(): { workers: number; busy: number; queued: number } {
    const busy = [...this.slots].filter((slot) => slot.job).length;
    return { workers: this.slots.size, busy, queued: this.queue.length };
  }

  /** Terminates every worker; running and waiting jobs end as errored. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = [...this.slots];
    for (const job of this.queue.splice(0)) job.resolve(interruptedReport(undefined, 'worker_exit'));
    for (const slot of slots) {
      const job = this.retire(slot);
      job?.resolve(interruptedReport(job.progress, 'worker_exit'));
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  /** Hands waiting jobs to idle workers, and starts workers (up to size) for the rest. */
  private dispatch(): void {
    for (const slot of this.slots) {
      const job = slot.ready && !slot.job ? this.queue.shift() : undefined;
      if (job) this.start(slot, job);
    }
    const starting = [...this.slots].filter((slot) => !slot.ready).length;
    for (let more = this.queue.length - starting; more > 0 && this.slots.size < this.options.size; more--) {
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
    else if (!wasReady) this.queue.shift()?.resolve(interruptedReport(undefined, 'worker_exit'));
    if (wasReady) this.replace();
    else this.dispatch();
  }

  /** Takes the slot out of the pool; answers the job it was running. */
  private retire(slot: Slot): QueuedJob | undefined {
    this.slots.delete(slot);
    clearTimeout(slot.timer);
    const job = slot.job;
    slot.job = undefined;
    return job;
  }

  /** A worker stopped: another starts at once (unless closing), so the next job does not wait for one. */
  private replace(): void {
    if (this.closed) return;
    if (this.slots.size < this.options.size) this.spawn();
    this.dispatch();
  }
}
