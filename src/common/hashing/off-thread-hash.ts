import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';

// The worker's code, inline so it needs no separate file in dist/ or under Jest.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    let h = hashes.get(m.id);
    if (!h) hashes.set(m.id, (h = createHash('sha256')));
    h.update(new Uint8Array(m.data, 0, m.length));
    // The memory goes back to be filled again.
    parentPort.postMessage({ id: m.id, ack: true, data: m.data }, [m.data]);
  } else if (m.op === 'digest') {
    const h = hashes.get(m.id) ?? createHash('sha256');
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, digest: h.digest() });
  } else if (m.op === 'discard') {
    hashes.delete(m.id);
  }
});
`;

/**
 * Bytes gathered before handing them to the worker (one message, one transfer, per batch). 4 MiB:
 * each batch costs the main thread a postMessage that wakes the worker and an ack that wakes it
 * back; at 1 MiB those took more of its time per GiB than the copying (a CPU profile of a 1 GiB
 * upload), and the same gate into the file store ran up to 1.7x faster at 4 MiB.
 */
const BATCH = 4 * 1024 * 1024;

let worker: Worker | undefined;
/** Batches a hash may have queued at the worker before its writer waits (bounds memory to ~16 MiB). */
const MAX_IN_FLIGHT = 4;

const waiting = new Map<string, { resolve: (digest: Buffer) => void; reject: (err: Error) => void }>();
const hashes = new Map<string, OffThreadHash>();

function shared(): Worker {
  if (!worker) {
    worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', (m: { id: string; ack?: true; data?: ArrayBuffer; digest?: Uint8Array }) => {
      if (m.ack) return hashes.get(m.id)?.acked(1, m.data);
      waiting.get(m.id)?.resolve(Buffer.from(m.digest!));
      waiting.delete(m.id);
    });
    // An error is followed by 'exit': whatever waits on this worker fails, the next hash starts a new one.
    let failure = new Error('The hashing worker stopped');
    worker.on('error', (err) => (failure = err));
    worker.on('exit', () => {
      worker = undefined;
      for (const w of waiting.values()) w.reject(failure);
      waiting.clear();
      for (const h of hashes.values()) h.acked(Infinity);
    });
    // Last, after the listeners (which would otherwise hold it): never keeps the process alive.
    worker.unref();
  }
  return worker;
}

/**
 * SHA-256 of a stream computed on a worker thread, so hashing a large upload
 * (~1 s a GiB here) does not take the event loop's time: bytes are copied
 * into 4 MiB batches and transferred (the worker hands each batch's memory
 * back, so an upload reuses a few MiB), the digest comes back at the end.
 */
export class OffThreadHash {
  private readonly id = randomUUID();
  private readonly worker = shared();
  private batch = Buffer.allocUnsafeSlow(BATCH);
  private filled = 0;
  private inFlight = 0;
  private readonly spare: ArrayBuffer[] = [];
  private resume?: () => void;

  constructor() {
    hashes.set(this.id, this);
  }

  /** Resolves when the worker has caught up enough to take more (call after update). */
  ready(): Promise<void> | undefined {
    if (this.inFlight < MAX_IN_FLIGHT) return undefined;
    return new Promise((resolve) => (this.resume = resolve));
  }

  /** @internal the worker finished `n` batches (and gave back the memory of one). */
  acked(n = 1, memory?: ArrayBuffer): void {
    if (memory) this.spare.push(memory);
    this.inFlight = Math.max(0, this.inFlight - n);
    if (this.resume && this.inFlight <= MAX_IN_FLIGHT / 2) {
      this.resume();
      this.resume = undefined;
    }
  }

  update(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, BATCH - this.filled);
      chunk.copy(this.batch, this.filled, offset, offset + n);
      this.filled += n;
      offset += n;
      if (this.filled === BATCH) this.send();
    }
  }

  digest(): Promise<Buffer> {
    hashes.delete(this.id);
    // The worker this hash fed has stopped (it crashed mid-upload): its state is gone.
    if (this.worker !== worker) return Promise.reject(new Error('The hashing worker stopped'));
    if (this.filled > 0) this.send();
    return new Promise((resolve, reject) => {
      waiting.set(this.id, { resolve, reject });
      this.worker.postMessage({ op: 'digest', id: this.id });
    });
  }

  discard(): void {
    hashes.delete(this.id);
    this.worker.postMessage({ op: 'discard', id: this.id });
  }

  private send(): void {
    // The batch's memory moves to the worker (no copy); a fresh one takes its place.
    const data = this.batch.buffer;
    this.worker.postMessage({ op: 'update', id: this.id, data, length: this.filled }, [data]);
    const reuse = this.spare.pop();
    this.batch = reuse ? Buffer.from(reuse) : Buffer.allocUnsafeSlow(BATCH);
    this.filled = 0;
    this.inFlight++;
  }
}
