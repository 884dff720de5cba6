// npm run bench:metrics — what metrics and tracing cost per request: GET /health req/s and p99
// on three built servers, each its own process on the embedded defaults: metrics and tracing
// off, metrics on (METRICS_TOKEN; scraped once a round, as Prometheus would), and tracing on
// (OTEL_EXPORTER_OTLP_ENDPOINT: a sink in another process that accepts every export). The same
// load runs against each in interleaved rounds (so drifting machine load hits all three alike);
// the best round of each counts. On a machine shared with other work req/s swings with everyone
// else's load, so each round also reads the server process's own CPU time (Linux /proc) and
// reports CPU per request (median of rounds), which that load barely moves. Ratios last.
// Goal: metrics cost at most 3 % on /health.
import autocannon from 'autocannon';
import { EventEmitter } from 'node:events';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

/** The process's user + system CPU time in ms (Linux: /proc/<pid>/stat, 100 ticks a second), or NaN. */
function cpuMs(pid) {
  const file = `/proc/${pid}/stat`;
  if (!existsSync(file)) return NaN;
  const fields = readFileSync(file, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
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
  return { title, base, env, pid: proc.pid, rounds: [] };
}

async function load(server) {
  const cpuBefore = cpuMs(server.pid);
  const result = await cannon(server);
  return { ...result, cpuUsPerRequest: ((cpuMs(server.pid) - cpuBefore) * 1000) / result.requests };
}

const cannon = (server) =>
  new Promise((resolve, reject) => {
    autocannon(
      { url: `${server.base}/api/v1/health`, connections: CONNECTIONS, duration: DURATION },
      (err, res) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        const bad = res.non2xx + res.errors + res.timeouts;
        if (bad > 0) return reject(new Error(`${server.title}: ${bad} failed responses`));
        resolve({ rps: res.requests.average, p99: res.latency.p99, requests: res.requests.total });
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
    cpu: median(s.rounds.map((r) => r.cpuUsPerRequest)),
    all: s.rounds.map((r) => r.rps.toFixed(0)).join(' '),
  }));
  const [off, metrics, tracing] = best;
  console.log(
    `\nGET /health, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION} s; req/s and p99: best round; CPU: median round`,
  );
  console.log('server         req/s    p99 ms   CPU µs/request   rounds (req/s)');
  for (const r of best) {
    console.log(
      `${r.title.padEnd(12)} ${r.rps.toFixed(0).padStart(7)} ${String(r.p99).padStart(9)}   ${r.cpu.toFixed(0).padStart(14)}   ${r.all}`,
    );
  }
  for (const r of [metrics, tracing]) {
    console.log(
      `\n${r.title}: req/s ${(r.rps / off.rps).toFixed(3)} of off; CPU per request ${(r.cpu / off.cpu).toFixed(3)} of off ` +
        `(${(r.cpu - off.cpu).toFixed(1)} µs more, ${((r.cpu / off.cpu - 1) * 100).toFixed(1)} %)`,
    );
  }
  const middleware = await middlewareCpuUs();
  console.log(
    `\nthe request-metrics middleware alone, in this process: ${middleware.toFixed(2)} µs CPU per request ` +
      `(${((middleware / off.cpu) * 100).toFixed(2)} % of an unmetered /health request's CPU above)`,
  );
} finally {
  for (const child of children) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}

/**
 * The request-metrics middleware's own CPU per request, measured in this process on a fake
 * request and response (the end-to-end difference drowns in a shared machine's noise).
 */
async function middlewareCpuUs() {
  const { AppMetrics } = await import('../dist/src/common/metrics/app-metrics.js');
  const { httpMetricsMiddleware } = await import('../dist/src/common/metrics/http-metrics.js');
  const middleware = httpMetricsMiddleware(new AppMetrics({ metrics: { enabled: true } }));
  const route = { path: '/api/v1/health' };
  const once = (metered) => {
    const res = Object.assign(new EventEmitter(), { statusCode: 200 });
    if (metered) middleware({ method: 'GET', route, baseUrl: '' }, res, () => undefined);
    res.emit('close');
  };
  const cpuPerCall = (metered, n) => {
    const started = process.cpuUsage();
    for (let i = 0; i < n; i++) once(metered);
    const used = process.cpuUsage(started);
    return (used.user + used.system) / n;
  };
  cpuPerCall(true, 100_000); // warm-up
  const runs = [0, 1, 2].map(() => cpuPerCall(true, 300_000) - cpuPerCall(false, 300_000));
  return median(runs);
}
