// npm run bench:backup — upload a generated 1 GiB stream through PUT /backup on each blob driver
// (files, and S3 against s3rver in a child process) from a client in a child process, then download
// it again through GET /backup; print MB/s, the server process's peak RSS growth, and each direction
// as a ratio to the direct path measured in the same run: a direct write of the same stream to the
// same place (a plain file write / a direct lib-storage Upload to the same s3rver) and a direct read
// of those bytes back (a plain file read / a plain SDK GetObject). Goals: RSS growth <= 100 MiB;
// upload and download >= 0.8 of the direct path.
// Also printed, to tell where the time goes: this CPU's SHA-256 speed on one core, the CPU seconds per
// GiB each path costs this process (and its main thread) and the client process; for the files
// driver a durable direct write (the same plain write followed by one fsync, which is what an
// acknowledged backup must also have done) and a third path each way: the same client process
// sending to / reading from a bare node:http server in this process that writes / serves the file
// plainly (the cost of moving the bytes over HTTP at all, without auth, hashing or fsync).
// BENCH_ROUNDS (3) alternating rounds, medians; BENCH_DRIVERS=files,s3; BENCH_BYTES.
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';
import { execSync, fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { source as generate } from './backup-source.mjs';
import { registerTeamUser, startApp, startDatabase } from './support.mjs';

const SIZE = Number(process.env.BENCH_BYTES ?? 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Read size of the plain read paths: the files driver's own, so a ratio compares the paths, not read sizes. */
const READ_SIZE = 1024 * 1024;
/**
 * Before each measurement: write back dirty pages and, where permitted (root), drop the clean page
 * cache, so every round starts from the same state (otherwise the kernel's reclaim of the previous
 * gigabyte lands on whichever measurement comes next, a 1-5x swing on this machine).
 */
function settle() {
  execSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '1');
  } catch {
    // not permitted: sync alone
  }
}
const here = dirname(fileURLToPath(import.meta.url));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const source = () => generate(SIZE);

/** CPU seconds this process's main thread has used (Linux; undefined elsewhere). */
function mainThreadCpu() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

// No forced GC before a measurement: a forced full collection left V8 running a major GC every
// ~100 ms for the rest of the run (external memory of socket chunks), halving both paths.
async function measure(fn) {
  const base = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpu();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const start = performance.now();
  let outcome;
  try {
    outcome = await fn();
  } finally {
    clearInterval(timer);
  }
  const s = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const gib = SIZE / 1024 ** 3;
  const main1 = mainThreadCpu();
  return {
    mbps: SIZE / 1e6 / s,
    seconds: s,
    rssGrowthMiB: (peak - base) / 1048576,
    cpuPerGiB: (cpu.user + cpu.system) / 1e6 / gib,
    mainCpuPerGiB: main0 === undefined ? NaN : (main1 - main0) / gib,
    clientCpuPerGiB: outcome?.clientCpu === undefined ? undefined : outcome.clientCpu / gib,
  };
}

/** MB/s of SHA-256 on one core of this CPU (the hashing the upload path cannot skip). */
function sha256Speed() {
  const block = Buffer.alloc(1024 * 1024, 7);
  const h = createHash('sha256');
  const start = performance.now();
  for (let i = 0; i < 256; i++) h.update(block);
  h.digest();
  return (256 * 1048576) / 1e6 / ((performance.now() - start) / 1000);
}

/** A sink that drops what it is given (a read measured on its own). */
const discard = () =>
  new Writable({
    highWaterMark: 4 * 1024 * 1024,
    writev: (_chunks, done) => done(),
    write: (_chunk, _encoding, done) => done(),
  });

/** A plain write of the generated stream to `path`, then (when `synced`) one fsync of the file. */
async function writeFilePlainly(path, synced) {
  await pipeline(source(), createWriteStream(path));
  if (!synced) return;
  const file = await open(path, 'r');
  try {
    await file.sync();
  } finally {
    await file.close();
  }
}

const hash = createHash('sha256');
for await (const c of source()) hash.update(c);
const checksum = hash.digest('hex');

const work = mkdtempSync(join(tmpdir(), 'adiuva-bench-backup-'));
const db = await startDatabase();
const s3 = fork(join(here, '..', 'test', 'support', 's3rver-process.mjs'), {
  env: { ...process.env, S3RVER_DIR: join(work, 's3'), S3RVER_BUCKET: 'bench' },
});
const { port: s3port } = await new Promise((resolve) => s3.once('message', resolve));
const s3env = {
  S3_BUCKET: 'bench',
  S3_ENDPOINT_URL: `http://127.0.0.1:${s3port}`,
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
};

// The third path for the files driver: the same client, a bare HTTP server writing (PUT) or serving
// (GET) the file plainly.
const bare = createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-length': String(SIZE) });
    pipeline(createReadStream(join(work, 'direct.bin'), { highWaterMark: READ_SIZE }), res).catch(() =>
      res.destroy(),
    );
    return;
  }
  pipeline(req, createWriteStream(join(work, 'http.bin'))).then(
    () => res.end('ok'),
    (err) => res.writeHead(500).end(String(err)),
  );
});
await new Promise((resolve) => bare.listen(0, '127.0.0.1', resolve));

const results = [];
try {
  for (const driver of (process.env.BENCH_DRIVERS ?? 'files,s3').split(',')) {
    const server = await startApp(db, {
      DATA_DIR: join(work, driver),
      BACKUP_KEEP: '1',
      // No orphan sweep during the transfers: plain s3rver lacks ListMultipartUploads, which the sweep
      // calls (the e2e suites teach s3rver it, test/support/s3-multipart.ts; S3 itself has it).
      BLOB_SWEEP_INTERVAL_MS: '0',
      ...(driver === 's3' ? s3env : {}),
    });
    const { app, base } = server;
    try {
      const user = await registerTeamUser(server, `bench-${driver}-${Date.now()}@example.com`);

      // The client is a process of its own, as in real life: the server's RSS and CPU are its own.
      const send = async (url, expected, method = 'PUT') => {
        const client = fork(join(here, 'backup-client.mjs'), {
          env: {
            ...process.env,
            BENCH_URL: url,
            BENCH_METHOD: method,
            BENCH_TOKEN: user.token,
            BENCH_CHECKSUM: checksum,
            BENCH_BYTES: String(SIZE),
          },
        });
        await new Promise((resolve) => client.once('message', resolve));
        return measure(
          () =>
            new Promise((resolve, reject) => {
              client.once('message', (m) =>
                m.status !== expected
                  ? reject(new Error(`${m.status} ${m.body}`))
                  : method === 'GET' && m.bytes !== SIZE
                    ? reject(new Error(`read ${m.bytes} of ${SIZE} bytes`))
                    : resolve({ clientCpu: m.cpu }),
              );
              client.once('exit', (code) => code !== 0 && reject(new Error(`client exited with ${code}`)));
              client.send('go');
            }),
        );
      };
      const s3client = () =>
        new S3Client({
          region: 'us-east-1',
          endpoint: s3env.S3_ENDPOINT_URL,
          forcePathStyle: true,
          credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        });
      const bareUrl = `http://127.0.0.1:${bare.address().port}/`;
      const paths = {
        upload: {
          direct: () =>
            measure(async () => {
              if (driver === 'files') return writeFilePlainly(join(work, 'direct.bin'), false);
              const client = s3client();
              await new Upload({
                client,
                params: { Bucket: 'bench', Key: 'direct', Body: source() },
                queueSize: 4,
                partSize: 8 * 1024 * 1024,
              }).done();
              client.destroy();
            }),
          ...(driver === 'files'
            ? {
                synced: () => measure(() => writeFilePlainly(join(work, 'direct.bin'), true)),
                http: () => send(bareUrl, 200),
              }
            : {}),
          viaApi: () => send(`${base}/backup`, 201),
        },
        download: {
          direct: () =>
            measure(async () => {
              if (driver === 'files')
                return pipeline(
                  createReadStream(join(work, 'direct.bin'), { highWaterMark: READ_SIZE }),
                  discard(),
                );
              const client = s3client();
              const object = await client.send(new GetObjectCommand({ Bucket: 'bench', Key: 'direct' }));
              await pipeline(object.Body, discard());
              client.destroy();
            }),
          ...(driver === 'files' ? { http: () => send(bareUrl, 200, 'GET') } : {}),
          viaApi: () => send(`${base}/backup`, 200, 'GET'),
        },
      };
      // Rounds alternate, each measurement starting with no dirty pages left by the one before and
      // (as root) nothing of the file in the page cache (the page cache's writeback otherwise lands on
      // whichever measurement comes next); medians are reported.
      const rounds = [];
      for (let r = 0; r < ROUNDS; r++) {
        const round = { upload: {}, download: {} };
        for (const direction of ['upload', 'download']) {
          for (const [name, run] of Object.entries(paths[direction])) {
            settle();
            round[direction][name] = await run();
          }
          console.log(
            `${driver} round ${r + 1} ${direction}: ` +
              Object.entries(round[direction])
                .map(
                  ([k, m]) =>
                    `${k} ${m.mbps.toFixed(0)} MB/s (CPU ${m.cpuPerGiB.toFixed(2)} s/GiB, main ${m.mainCpuPerGiB.toFixed(2)}` +
                    `${m.clientCpuPerGiB === undefined ? '' : `, client ${m.clientCpuPerGiB.toFixed(2)}`}; RSS +${m.rssGrowthMiB.toFixed(0)} MiB)`,
                )
                .join(', '),
          );
        }
        rounds.push(round);
      }
      for (const direction of ['upload', 'download']) {
        const of = (path, field) => median(rounds.map((r) => r[direction][path]?.[field]));
        const per = (path) =>
          rounds[0][direction][path]
            ? rounds.map((r) => r[direction].viaApi.mbps / r[direction][path].mbps)
            : undefined;
        results.push({
          driver,
          direction,
          api: of('viaApi', 'mbps'),
          direct: of('direct', 'mbps'),
          ratios: per('direct'),
          synced: rounds[0][direction].synced ? of('synced', 'mbps') : undefined,
          syncedRatios: per('synced'),
          http: rounds[0][direction].http ? of('http', 'mbps') : undefined,
          httpRatios: per('http'),
          apiCpu: of('viaApi', 'cpuPerGiB'),
          apiMainCpu: of('viaApi', 'mainCpuPerGiB'),
          clientCpu: of('viaApi', 'clientCpuPerGiB'),
          directCpu: of('direct', 'cpuPerGiB'),
          rss: Math.max(...rounds.map((r) => r[direction].viaApi.rssGrowthMiB)),
        });
      }
    } finally {
      await app.close();
    }
  }
} finally {
  bare.close();
  s3.disconnect();
  await new Promise((resolve) => s3.once('exit', resolve));
  await db.stop();
  rmSync(work, { recursive: true, force: true });
}

console.log(
  `\n${(SIZE / 1048576).toFixed(0)} MiB per transfer; client in a child process, s3rver in another, server in this one; ` +
    `SHA-256 on one core here: ${sha256Speed().toFixed(0)} MB/s`,
);
const fixed = (x, digits = 0) => (x === undefined ? '-' : x.toFixed(digits));
const ratioCell = (ratios) =>
  ratios === undefined ? '-' : `${median(ratios).toFixed(2)} (${ratios.map((x) => x.toFixed(2)).join(' ')})`;
console.log(
  'driver  way       API MB/s  direct MB/s  API/direct (median; rounds)  direct+fsync  API/fsync  http MB/s  API/http' +
    '  CPU s/GiB API (main) / direct  client  RSS growth MiB',
);
for (const r of results) {
  console.log(
    [
      r.driver.padEnd(7),
      r.direction.padEnd(8),
      fixed(r.api).padStart(9),
      fixed(r.direct).padStart(12),
      `  ${ratioCell(r.ratios)}`.padEnd(29),
      fixed(r.synced).padStart(12),
      (r.syncedRatios ? median(r.syncedRatios).toFixed(2) : '-').padStart(10),
      fixed(r.http).padStart(10),
      (r.httpRatios ? median(r.httpRatios).toFixed(2) : '-').padStart(9),
      `${r.apiCpu.toFixed(2)} (${r.apiMainCpu.toFixed(2)}) / ${r.directCpu.toFixed(2)}`.padStart(32),
      fixed(r.clientCpu, 2).padStart(7),
      r.rss.toFixed(0).padStart(15),
    ].join(' '),
  );
}
