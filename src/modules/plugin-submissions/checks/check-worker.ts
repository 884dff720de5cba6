import { parentPort, workerData } from 'node:worker_threads';
import { runSubmissionChecks } from './run-checks.js';
import type { CheckJob, CheckWorkerData, FromCheckWorker } from './check-pool.js';
import type { Scanners } from './types.js';

/**
 * The worker thread of CheckPool: runs one submission's checks at a time, off the API's event loop.
 * It tells the pool each check as it starts (so a run terminated at the deadline keeps what finished),
 * then the report. The pool terminates it when the hard deadline passes; its own deadline (the same
 * timeoutMs, from when the job arrives) stops the checks between files and scanner calls before that.
 * A throw outside the checks (they catch their own) is uncaught here: the worker dies, and the pool
 * reports the running check as errored.
 */
const port = parentPort;
if (!port) throw new Error('check-worker.js runs as a worker thread of CheckPool');
const { scannersModule } = workerData as CheckWorkerData;
// Tests only: scanners that hang or spin, to prove the pool stops them.
const scanners = scannersModule
  ? ((await import(scannersModule)) as { scanners: Partial<Scanners> }).scanners
  : undefined;

port.on('message', (job: CheckJob) => {
  const { packageBytes, ...input } = job.input;
  const bytes = Buffer.from(packageBytes.buffer, packageBytes.byteOffset, packageBytes.byteLength);
  const post = (message: FromCheckWorker) => port.postMessage(message);
  void runSubmissionChecks(
    { ...input, packageBytes: bytes },
    {
      timeoutMs: job.timeoutMs,
      limits: job.limits,
      scanners,
      onProgress: (progress) => post({ type: 'progress', id: job.id, progress }),
    },
  ).then((report) => post({ type: 'report', id: job.id, report }));
});
port.postMessage({ type: 'ready' } satisfies FromCheckWorker);
