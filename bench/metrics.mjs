// npm run bench:metrics — what metrics and tracing cost per request: GET /health req/s and p99
// on three built servers, each its own process on the embedded defaults: metrics and tracing
// off, metrics on (METRICS_TOKEN; scraped once a round, as Prometheus would), and tracing on
// (OTEL_EXPORTER_OTLP_ENDPOINT: a sink in another process that accepts every export). The same
// load runs against each in interleaved rounds (so drifting machine load hits all three alike);
// the best round of each counts. Ratios last. Goal: metrics cost at most 3 % on /health.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const TOKEN = 'bench-metrics-token-0123456789';

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });

const children = [];
const dirs = [];

/** An OTLP/HTTP sink in its own process: reads and drops every export, answers 200. */
async function startSink() {
  const port = await freePort();
  const code = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => s.writeHead(200, {'content-type': 'application/json'}).end('{}')); }).listen(${port}, '127.0.0.1');`;
  children.push(spawn(process.execPath, ['-e', code], { stdio: 'ignore' }));
  return `http://127.0.0.1:${port}`;
}

async function startServer(title, env) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'adiuva-bench-metrics-'));
  dirs.push(dataDir);
  const proc = spawn(process.execPath, ['dist/src/main.js'], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_ENABLED: 'false',
      BLOB_SWEEP_INTERVAL_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(proc);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/api/v1/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 600) throw new Error(`${title}: server did not start`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { title, base, env, rounds: [] };
}

const load = (server) =>
  new Promise((resolve, reject) => {
    autocannon(
      { url: `${server.base}/api/v1/health`, connections: CONNECTIONS, duration: DURATION },
      (err, res) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        const bad = res.non2xx + res.errors + res.timeouts;
        if (bad > 0) return reject(new Error(`${server.title}: ${bad} failed responses`));
        resolve({ rps: res.requests.average, p99: res.latency.p99 });
      },
    );
  });

try {
  const sink = await startSink();
  const servers = await Promise.all([
    startServer('off', {}),
    startServer('metrics on', { METRICS_TOKEN: TOKEN }),
    startServer('tracing on', { OTEL_EXPORTER_OTLP_ENDPOINT: sink }),
  ]);
  for (const server of servers) await load(server); // warm-up (JIT, pools)
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order, so no configuration always runs first or last in a round.
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(round + i) % servers.length];
      server.rounds.push(await load(server));
      if (server.env.METRICS_TOKEN) {
        const scrape = await fetch(`${server.base}/api/v1/metrics`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        if (!scrape.ok) throw new Error(`scrape answered ${scrape.status}`);
        await scrape.text();
      }
    }
  }
  const best = servers.map((s) => ({
    title: s.title,
    rps: Math.max(...s.rounds.map((r) => r.rps)),
    p99: Math.min(...s.rounds.map((r) => r.p99)),
    all: s.rounds.map((r) => r.rps.toFixed(0)).join(' '),
  }));
  const [off, metrics, tracing] = best;
  console.log(
    `\nGET /health, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION} s, best round of each`,
  );
  console.log('server         req/s    p99 ms   rounds (req/s)');
  for (const r of best) {
    console.log(
      `${r.title.padEnd(12)} ${r.rps.toFixed(0).padStart(7)} ${String(r.p99).padStart(9)}   ${r.all}`,
    );
  }
  const cost = (r) => ((1 - r.rps / off.rps) * 100).toFixed(1);
  const perRequestUs = (r) => (1e6 / r.rps - 1e6 / off.rps).toFixed(1);
  console.log(
    `\nmetrics on:  ${(metrics.rps / off.rps).toFixed(3)} of off (${cost(metrics)} % fewer req/s, ` +
      `${perRequestUs(metrics)} µs more per request at this concurrency)`,
  );
  console.log(
    `tracing on:  ${(tracing.rps / off.rps).toFixed(3)} of off (${cost(tracing)} % fewer req/s, ` +
      `${perRequestUs(tracing)} µs more per request at this concurrency)`,
  );
} finally {
  for (const child of children) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
