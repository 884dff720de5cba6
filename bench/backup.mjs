// npm run bench:backup — upload a generated 1 GiB stream through PUT /backup on each blob driver
// (files, and S3 against an in-process s3rver); print MB/s, the process's peak RSS growth during
// the upload, and the throughput as a ratio to a direct write of the same stream to the same place
// (a plain file write / a direct lib-storage Upload to the same s3rver) measured in the same run.
// Goals: RSS growth <= 100 MiB; throughput >= 0.8 of the direct path.
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3rver from 's3rver';
import { createApp } from '../dist/src/app.factory.js';
import { createLogger } from '../dist/src/common/logging/logger.js';
import { loadConfig } from '../dist/src/config/app-config.js';
import { EmbeddedPostgres } from '../dist/src/database/embedded-postgres.js';

const SIZE = Number(process.env.BENCH_BYTES ?? 1024 ** 3);
const CHUNK = 1024 * 1024;
const seed = Buffer.alloc(CHUNK, 7);

/** The same SIZE bytes every time, produced chunk by chunk. */
function source() {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= SIZE) return this.push(null);
      const n = Math.min(CHUNK, SIZE - sent);
      const piece = Buffer.from(seed.subarray(0, n));
      piece.writeUInt32LE(sent >>> 0, 0);
      sent += n;
      this.push(piece);
    },
  });
}

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
const pgServer = new EmbeddedPostgres(undefined, 'worker');
const dbUrl = await pgServer.start();
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
  for (const driver of ['files', 's3']) {
    const dataDir = join(work, driver);
    const config = loadConfig({
      DATA_DIR: dataDir,
      DATABASE_URL: dbUrl,
      DATABASE_POOL_MAX: '1',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_ENABLED: 'false',
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

      const viaApi = await measure(
        () =>
          new Promise((resolve, reject) => {
            const req = request(
              {
                host: '127.0.0.1',
                port,
                path: '/api/v1/backup',
                method: 'PUT',
                headers: {
                  authorization: `Bearer ${reg.access_token}`,
                  'content-type': 'application/octet-stream',
                  'content-length': String(SIZE),
                  'x-backup-version': '1',
                  'x-backup-timestamp': String(Date.now()),
                  'x-backup-checksum': checksum,
                },
              },
              (res) => {
                let body = '';
                res.on('data', (d) => (body += d));
                res.on('end', () =>
                  res.statusCode === 201 ? resolve() : reject(new Error(`${res.statusCode} ${body}`)),
                );
              },
            );
            req.on('error', reject);
            source().pipe(req);
          }),
      );
      const direct = await measure(async () => {
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
      results.push({ driver, viaApi, direct });
    } finally {
      await app.close();
    }
  }
} finally {
  await s3.close();
  await pgServer.stop();
  rmSync(work, { recursive: true, force: true });
}

console.log(`\n${(SIZE / 1048576).toFixed(0)} MiB per upload, client and server in this process`);
console.log('driver   PUT /backup MB/s   direct MB/s   ratio   RSS growth (MiB, PUT)');
for (const r of results) {
  console.log(
    `${r.driver.padEnd(8)} ${r.viaApi.mbps.toFixed(0).padStart(16)} ${r.direct.mbps.toFixed(0).padStart(13)} ${(r.viaApi.mbps / r.direct.mbps).toFixed(2).padStart(7)}   ${r.viaApi.rssGrowthMiB.toFixed(0).padStart(6)}`,
  );
}
