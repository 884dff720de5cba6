// npm run bench:attachments — a generated file (BENCH_BYTES, 1 GiB) uploaded in parts and downloaded
// as an attachment on each blob driver, from a client in a child process, side by side with a direct
// write and read of the same bytes by the same client (a plain file on the files driver; on S3 the
// same client PUTs the same parts to presigned URLs of the same s3rver and reads the object back).
// Prints MB/s of each path and their ratio (goal >= 0.8), and the event-loop time of the server
// process per GiB (performance.eventLoopUtilization: active ms) across create, upload, complete and
// download; on S3 the bytes never pass through it (goal: near zero). complete reads the object back
// to check its SHA-256 (s3rver keeps no checksum; S3 does not either for parts) on a worker thread:
// its time is printed apart. BENCH_DRIVERS=files,s3; BENCH_ROUNDS (2), medians.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { registerTeamUser, startApp, startDatabase } from './support.mjs';

const SIZE = Number(process.env.BENCH_BYTES ?? 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const GIB = SIZE / 1024 ** 3;
const here = dirname(fileURLToPath(import.meta.url));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mbps = (ms) => SIZE / 1e6 / (ms / 1000);

const client = fork(join(here, 'attachments-client.mjs'), { execArgv: [] });
const replies = [];
client.on('message', (m) => replies.shift()?.(m));
const ask = (m) =>
  new Promise((resolve, reject) => {
    replies.push((r) => (r.error ? reject(new Error(r.error)) : resolve(r)));
    client.send(m);
  });
await new Promise((resolve) => client.once('message', resolve));
const { sha256 } = await ask({ op: 'hash', size: SIZE });

const work = mkdtempSync(join(tmpdir(), 'adiuva-bench-attachments-'));
const db = await startDatabase();
const s3 = fork(join(here, '..', 'test', 'support', 's3rver-process.mjs'), {
  env: { ...process.env, S3RVER_DIR: join(work, 's3'), S3RVER_BUCKET: 'bench' },
  execArgv: [],
});
const { port: s3port } = await new Promise((resolve) => s3.once('message', resolve));
const s3env = {
  S3_BUCKET: 'bench',
  S3_ENDPOINT_URL: `http://127.0.0.1:${s3port}`,
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
};

async function api(server, user, method, path, body) {
  const res = await fetch(`${server.base}${path}`, {
    method,
    headers: { ...user.auth, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/** One attachment through the API; event-loop time of this (the server's) process measured per phase. */
async function throughRoute(server, user, recordId) {
  const phase = async (fn) => {
    const elu0 = performance.eventLoopUtilization();
    const start = performance.now();
    const value = await fn();
    return { value, ms: performance.now() - start, elu: performance.eventLoopUtilization(elu0).active };
  };
  const created = await phase(() =>
    api(server, user, 'POST', '/storage/attachments', { record_id: recordId, size_bytes: SIZE, sha256 }),
  );
  const plan = created.value;
  const requests = plan.parts ?? [{ ...plan.upload, offset: 0, size_bytes: SIZE, part_number: 1 }];
  const up = await phase(() =>
    ask({ op: 'upload', requests: requests.map((p) => ({ ...p, size: p.size_bytes })) }),
  );
  const body = plan.parts ? { parts: up.value.etags } : {};
  const done = await phase(() =>
    api(server, user, 'POST', `/storage/attachments/${plan.attachment_id}/complete`, body),
  );
  const down = await phase(async () => {
    const link = await api(server, user, 'GET', `/storage/attachments/${plan.attachment_id}`);
    return ask({ op: 'download', url: link.download_url });
  });
  if (down.value.sha256 !== sha256) throw new Error('the download differs from the upload');
  await api(server, user, 'DELETE', `/storage/attachments/${plan.attachment_id}`);
  return {
    upMs: up.value.ms,
    downMs: down.value.ms,
    completeMs: done.ms,
    elu: { create: created.elu, upload: up.elu, complete: done.elu, download: down.elu },
    plan,
  };
}

/** The same client, the same bytes, without us: a plain file, or the store's own presigned requests. */
async function direct(driver, server, user, recordId) {
  if (driver === 'files') {
    const path = join(work, 'direct.bin');
    const up = await ask({ op: 'write', path, size: SIZE });
    const down = await ask({ op: 'read', path });
    rmSync(path, { force: true });
    return { upMs: up.ms, downMs: down.ms };
  }
  // Presigned by the store's SDK directly (the same requests our route hands out, without the API around them).
  const { BlobStore } = await import('../dist/src/common/blob-store/blob-store.js');
  const blobs = server.app.get(BlobStore);
  const key = `${user.id}/attachments/00000000-0000-4000-8000-${Date.now().toString(16).padStart(12, '0')}`;
  const partSize = 16 * 1024 * 1024;
  const uploadId = await blobs.beginDirectUpload(key, { multipart: true });
  const requests = [];
  for (let offset = 0, n = 1; offset < SIZE; offset += partSize, n += 1) {
    const size = Math.min(partSize, SIZE - offset);
    const r = await blobs.presignedPartPut(key, { uploadId, partNumber: n, size, expiresInSeconds: 3600 });
    requests.push({ ...r, offset, size, part_number: n });
  }
  const up = await ask({ op: 'upload', requests });
  await blobs.finishDirectUpload(
    key,
    uploadId,
    up.etags.map((e) => ({ partNumber: e.part_number, etag: e.etag })),
  );
  const down = await ask({ op: 'download', url: await blobs.presignedGetUrl(key, 3600) });
  await blobs.delete(key);
  void recordId;
  return { upMs: up.ms, downMs: down.ms };
}

const lines = [];
try {
  for (const driver of (process.env.BENCH_DRIVERS ?? 'files,s3').split(',')) {
    const server = await startApp(db, { DATA_DIR: join(work, driver), ...(driver === 's3' ? s3env : {}) });
    try {
      const user = await registerTeamUser(server, `bench-att-${driver}-${Date.now()}@example.com`);
      const record = await api(server, user, 'POST', '/storage/records', {
        table: 'notes',
        blob: Buffer.from('x').toString('base64'),
        checksum: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881',
      });
      const ours = [];
      const theirs = [];
      for (let round = 0; round < ROUNDS; round++) {
        theirs.push(await direct(driver, server, user, record.id));
        ours.push(await throughRoute(server, user, record.id));
      }
      const up = median(ours.map((r) => r.upMs));
      const down = median(ours.map((r) => r.downMs));
      const dUp = median(theirs.map((r) => r.upMs));
      const dDown = median(theirs.map((r) => r.downMs));
      lines.push(
        `${driver}: upload ${mbps(up).toFixed(0)} MB/s vs direct ${mbps(dUp).toFixed(0)} MB/s = ${(dUp / up).toFixed(2)}x; ` +
          `download ${mbps(down).toFixed(0)} MB/s vs direct ${mbps(dDown).toFixed(0)} MB/s = ${(dDown / down).toFixed(2)}x; ` +
          `complete (size + SHA-256 read back) ${median(ours.map((r) => r.completeMs)).toFixed(0)} ms; ` +
          `server event loop per GiB (active ms): ${['create', 'upload', 'complete', 'download']
            .map((k) => `${k} ${(median(ours.map((r) => r.elu[k])) / GIB).toFixed(0)}`)
            .join(', ')} `,
        `(${ours[0].plan.parts?.length ?? 1} parts)`,
      );
      console.log(lines.at(-1));
    } finally {
      await server.app.close();
    }
  }
} finally {
  client.disconnect();
  s3.disconnect();
  await db.stop();
  rmSync(work, { recursive: true, force: true });
}
console.log(
  `\n${(SIZE / 1024 ** 2).toFixed(0)} MiB, ${ROUNDS} rounds (medians); goals: ratio >= 0.8, S3 event loop near zero`,
);
console.log(lines.join('\n'));
