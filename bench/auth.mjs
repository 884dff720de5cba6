// npm run bench:auth — req/s and p99 of GET /auth/me with a JWT and with an API key,
// each as a ratio to GET /health measured in the same run, against the built server
// (child process on loopback, embedded defaults). Goal: JWT path >= 0.5 of health.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const dataDir = mkdtempSync(join(tmpdir(), 'adiuva-bench-'));
const server = spawn(process.execPath, ['dist/src/main.js'], {
  env: {
    PATH: process.env.PATH,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    // Per-tier limits would turn the load into 429s; this measures authentication, not refusal.
    RATE_LIMIT_ENABLED: 'false',
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;

try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/api/v1/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  const reg = await fetch(`${base}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `bench-${Date.now()}@example.com`, password: 'benchmark password' }),
  }).then((r) => r.json());
  const jwt = { authorization: `Bearer ${reg.access_token}` };
  const key = await fetch(`${base}/api/v1/auth/api-keys`, {
    method: 'POST',
    headers: { ...jwt, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench' }),
  }).then((r) => r.json());

  const run = (title, path, headers = {}) =>
    new Promise((resolve, reject) => {
      autocannon({ url: base + path, headers, connections: CONNECTIONS, duration: DURATION }, (err, res) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        const bad = res.non2xx + res.errors + res.timeouts;
        if (bad > 0) return reject(new Error(`${title}: ${bad} failed responses`));
        resolve({ title, rps: res.requests.average, p99: res.latency.p99 });
      });
    });

  await run('warm-up', '/api/v1/auth/me', jwt);
  const health = await run('GET /health', '/api/v1/health');
  const meJwt = await run('GET /auth/me (JWT)', '/api/v1/auth/me', jwt);
  const meKey = await run('GET /auth/me (API key)', '/api/v1/auth/me', { 'x-api-key': key.key });

  console.log(
    `\n${CONNECTIONS} connections, ${DURATION} s each, database: ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PGlite'}`,
  );
  console.log('route                      req/s     p99 ms   req/s ratio to health');
  for (const r of [health, meJwt, meKey]) {
    console.log(
      `${r.title.padEnd(26)} ${r.rps.toFixed(0).padStart(7)} ${String(r.p99).padStart(9)}   ${(r.rps / health.rps).toFixed(2)}`,
    );
  }
  const ratio = meJwt.rps / health.rps;
  console.log(`\nJWT path: ${ratio.toFixed(2)} of health (goal >= 0.5): ${ratio >= 0.5 ? 'met' : 'NOT met'}`);
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}
