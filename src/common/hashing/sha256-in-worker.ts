import { Worker } from 'node:worker_threads';

// The worker's code, inline so it needs no separate file in dist/ or under Jest. It reads the
// source itself (a file, or a URL such as a presigned GET), so the bytes never cross the main
// thread: hashing a large stored object costs the event loop one message.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { createReadStream } = require('node:fs');
async function run() {
  const hash = createHash('sha256');
  if (workerData.path) {
    for await (const chunk of createReadStream(workerData.path, { highWaterMark: 1024 * 1024 })) hash.update(chunk);
  } else {
    const res = await fetch(workerData.url);
    if (!res.ok || !res.body) throw new Error('reading the object back answered ' + res.status);
    for await (const chunk of res.body) hash.update(chunk);
  }
  return hash.digest('hex');
}
run().then((digest) => parentPort.postMessage({ digest }), (err) => parentPort.postMessage({ error: String(err && err.message || err) }));
`;

/**
 * Lowercase hex SHA-256 of a file or of what a URL answers, computed on a
 * worker thread of its own that reads the bytes itself (one worker per call:
 * a completion check is rare next to its gigabytes).
 */
export function sha256InWorker(source: { path: string } | { url: string }): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: source });
    let settled = false;
    worker.once('message', (m: { digest?: string; error?: string }) => {
      settled = true;
      if (m.digest) resolve(m.digest);
      else reject(new Error(`Hashing the stored object failed: ${m.error}`));
      void worker.terminate();
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', () => {
      if (!settled) reject(new Error('The hashing worker stopped before it answered'));
    });
  });
}
