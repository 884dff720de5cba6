// npm run bench:backup — upload a generated 1 GiB stream through PUT /backup on each blob driver
// (files, and S3 against an in-process s3rver) from a client in a child process; print MB/s, the
// server process's peak RSS growth during the upload, and the throughput as a ratio to a direct write of the same stream to the same place
// (a plain file write / a direct lib-storage Upload to the same s3rver) measured in the same run.
// Goals: RSS growth <= 100 MiB; throughput >= 0.8 of the direct path. BENCH_ROUNDS (3) alternating rounds,
// medians; BENCH_DRIVERS=files,s3; BENCH_BYTES.
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execSync, fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import S3rver from 's3rver';
import { source as generate } from './backup-source.mjs';
import { createApp } from '../dist/src/app.factory.js';
import { createLogger } from '../dist/src/common/logging/logger.js';
import { loadConfig } from '../dist/src/config/app-config.js';
import { EmbeddedPostgres } from '../dist/src/database/embedded-postgres.js';

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
const source = () => generate(SIZE);

async function measure(fn) {
  globalThis.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const start = performance.now();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  const s = (performance.now() - start) / 1000;
  return { mbps: SIZE / 1e6 / s, seconds: s, rssGrowthMiB: (peak - base) / 1048576 };
}

const hash = createHash('sha256');
for await (const c of source()) hash.update(c);
const checksum = hash.digest('hex');

const work = mkdtempSync(join(tmpdir(), 'adiuva-bench-backup-'));
const pgServer = process.env.DATABASE_URL ? undefined : new EmbeddedPostgres(undefined, 'worker');
const dbUrl = process.env.DATABASE_URL ?? (await pgServer.start());
const s3dir = join(work, 's3');
const s3 = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: s3dir,
  configureBuckets: [{ name: 'bench', configs: [] }],
});
const { port: s3port } = await s3.run();
const s3env = {
  S3_BUCKET: 'bench',
  S3_ENDPOINT_URL: `http://127.0.0.1:${s3port}`,
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
};

const results = [];
try {
  for (const driver of (process.env.BENCH_DRIVERS ?? 'files,s3').split(',')) {
    const dataDir = join(work, driver);
    const config = loadConfig({
      DATA_DIR: dataDir,
      DATABASE_URL: dbUrl,
      DATABASE_POOL_MAX: '1',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_ENABLED: 'false',
      BACKUP_KEEP: '1',
      ...(driver === 's3' ? s3env : {}),
    });
    const app = await createApp(config, { logger: createLogger(config) });
    await app.listen(0, '127.0.0.1');
    const port = new URL(await app.getUrl()).port;
    try {
      const reg = await fetch(`http://127.0.0.1:${port}/api/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          email: `bench-${driver}-${Date.now()}@example.com`,
          password: 'benchmark password',
        }),
      }).then((r) => r.json());
      const userId = JSON.parse(Buffer.from(reg.access_token.split('.')[1], 'base64url')).sub;
      await app
        .get((await import('typeorm')).DataSource)
        .query(`UPDATE users SET tier_override = 'team' WHERE id = $1`, [userId]);

      // The client is a process of its own, as in real life: the server's RSS and CPU are its own.
      const upload = async () => {
        const client = fork(join(here, 'backup-client.mjs'), {
          env: {
            ...process.env,
            BENCH_URL: `http://127.0.0.1:${port}`,
            BENCH_TOKEN: reg.access_token,
            BENCH_CHECKSUM: checksum,
            BENCH_BYTES: String(SIZE),
          },
        });
        await new Promise((resolve) => client.once('message', resolve));
        return measure(
          () =>
            new Promise((resolve, reject) => {
              client.once('message', (m) =>
                m.status === 201 ? resolve() : reject(new Error(`${m.status} ${m.body}`)),
              );
              client.once('exit', (code) => code !== 0 && reject(new Error(`client exited with ${code}`)));
              client.send('go');
            }),
        );
      };
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
        settle();
        const d = await directWrite();
        settle();
        rounds.push({ direct: d, viaApi: await upload() });
      }
      const median = (pick) =>
        rounds.map(pick).sort((a, b) => a.mbps - b.mbps)[Math.floor(rounds.length / 2)];
      const viaApi = {
        ...median((r) => r.viaApi),
        rssGrowthMiB: Math.max(...rounds.map((r) => r.viaApi.rssGrowthMiB)),
      };
      const direct = median((r) => r.direct);
      console.log(
        `${driver}: ` +
          rounds.map((r) => `${r.viaApi.mbps.toFixed(0)}/${r.direct.mbps.toFixed(0)}`).join(', ') +
          ' MB/s (PUT/direct per round)',
      );
      results.push({ driver, viaApi, direct });
    } finally {
      await app.close();
    }
  }
} finally {
  await s3.close();
  await pgServer?.stop();
  rmSync(work, { recursive: true, force: true });
}

console.log(
  `\n${(SIZE / 1048576).toFixed(0)} MiB per upload; client in a child process, server (and s3rver) in this one`,
);
console.log('driver   PUT /backup MB/s   direct MB/s   ratio   RSS growth (MiB, PUT, max)');
for (const r of results) {
  console.log(
    `${r.driver.padEnd(8)} ${r.viaApi.mbps.toFixed(0).padStart(16)} ${r.direct.mbps.toFixed(0).padStart(13)} ${(r.viaApi.mbps / r.direct.mbps).toFixed(2).padStart(7)}   ${r.viaApi.rssGrowthMiB.toFixed(0).padStart(6)}`,
  );
}
