// npm run bench:backup — upload a generated 1 GiB stream through PUT /backup on each blob driver
// (files, and S3 against s3rver in a child process) from a client in a child process; print MB/s, the
// server process's peak RSS growth during the upload, and the throughput as a ratio to a direct write
// of the same stream to the same place (a plain file write / a direct lib-storage Upload to the same
// s3rver) measured in the same run. Goals: RSS growth <= 100 MiB; throughput >= 0.8 of the direct path.
// Also printed, to tell where the time goes: this CPU's SHA-256 speed on one core, the CPU seconds per
// GiB each path costs this process (and its main thread), and for the files driver a third path: the
// same client process sending to a bare node:http server in this process that writes the body plainly
// (the cost of moving the bytes over HTTP at all, without auth, hashing or fsync).
// BENCH_ROUNDS (3) alternating rounds, medians; BENCH_DRIVERS=files,s3; BENCH_BYTES.
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { execSync, fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { source as generate } from './backup-source.mjs';
import { registerTeamUser, startApp, startDatabase } from './support.mjs';

const SIZE = Number(process.env.BENCH_BYTES ?? 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
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
  try {
    await fn();
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

// The third path for the files driver: the same client, a bare HTTP server, a plain file write.
const bare = createServer((req, res) => {
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
      ...(driver === 's3' ? s3env : {}),
    });
    const { app, base } = server;
    try {
      const user = await registerTeamUser(server, `bench-${driver}-${Date.now()}@example.com`);

      // The client is a process of its own, as in real life: the server's RSS and CPU are its own.
      const send = async (url, expected) => {
        const client = fork(join(here, 'backup-client.mjs'), {
          env: {
            ...process.env,
            BENCH_URL: url,
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
                m.status === expected ? resolve() : reject(new Error(`${m.status} ${m.body}`)),
              );
              client.once('exit', (code) => code !== 0 && reject(new Error(`client exited with ${code}`)));
              client.send('go');
            }),
        );
      };
      const upload = () => send(`${base}/backup`, 201);
      const httpWrite = () => send(`http://127.0.0.1:${bare.address().port}/`, 200);
      const directWrite = () =>
        measure(async () => {
          if (driver === 'files') {
            await pipeline(source(), createWriteStream(join(work, 'direct.bin')));
          } else {
            const client = new S3Client({
              region: 'us-east-1',
              endpoint: s3env.S3_ENDPOINT_URL,
              forcePathStyle: true,
              credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
            });
            await new Upload({
              client,
              params: { Bucket: 'bench', Key: 'direct', Body: source() },
              queueSize: 4,
              partSize: 8 * 1024 * 1024,
            }).done();
            client.destroy();
          }
        });
      // Rounds alternate, each starting with no dirty pages left by the one before (the page cache's
      // writeback otherwise lands on whichever measurement comes next); medians are reported.
      const rounds = [];
      for (let r = 0; r < ROUNDS; r++) {
        const round = {};
        settle();
        round.direct = await directWrite();
        if (driver === 'files') {
          settle();
          round.http = await httpWrite();
        }
        settle();
        round.viaApi = await upload();
        rounds.push(round);
        console.log(
          `${driver} round ${r + 1}: ` +
            Object.entries(round)
              .map(
                ([k, m]) =>
                  `${k} ${m.mbps.toFixed(0)} MB/s (CPU ${m.cpuPerGiB.toFixed(2)} s/GiB, main ${m.mainCpuPerGiB.toFixed(2)})`,
              )
              .join(', '),
        );
      }
      const of = (path, field) => median(rounds.map((r) => r[path][field]));
      results.push({
        driver,
        put: of('viaApi', 'mbps'),
        direct: of('direct', 'mbps'),
        http: driver === 'files' ? of('http', 'mbps') : undefined,
        ratios: rounds.map((r) => r.viaApi.mbps / r.direct.mbps),
        httpRatios: driver === 'files' ? rounds.map((r) => r.viaApi.mbps / r.http.mbps) : undefined,
        putCpu: of('viaApi', 'cpuPerGiB'),
        directCpu: of('direct', 'cpuPerGiB'),
        rss: Math.max(...rounds.map((r) => r.viaApi.rssGrowthMiB)),
      });
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
  `\n${(SIZE / 1048576).toFixed(0)} MiB per upload; client in a child process, s3rver in another, server in this one; ` +
    `SHA-256 on one core here: ${sha256Speed().toFixed(0)} MB/s`,
);
console.log(
  'driver   PUT MB/s  direct MB/s  ratio (median; per round)     http+write MB/s  PUT/http  CPU s/GiB PUT/direct  RSS growth MiB',
);
for (const r of results) {
  console.log(
    [
      r.driver.padEnd(8),
      r.put.toFixed(0).padStart(8),
      r.direct.toFixed(0).padStart(12),
      `  ${median(r.ratios).toFixed(2)} (${r.ratios.map((x) => x.toFixed(2)).join(' ')})`.padEnd(30),
      (r.http === undefined ? '-' : r.http.toFixed(0)).padStart(16),
      (r.httpRatios === undefined ? '-' : median(r.httpRatios).toFixed(2)).padStart(9),
      `${r.putCpu.toFixed(2)} / ${r.directCpu.toFixed(2)}`.padStart(21),
      r.rss.toFixed(0).padStart(15),
    ].join(' '),
  );
}
