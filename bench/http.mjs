// npm run bench:http — the HTTP hot path: what our middleware and an authenticated request cost,
// as ratios measured in one run. Four servers, each in a process of its own on loopback, under the
// same load (autocannon, BENCH_CONNECTIONS connections, BENCH_SECONDS s per measurement), rounds
// interleaved and the best round of each kept (the machine is shared, so one slow round says little):
//   1. bare node:http answering a small JSON,
//   2. a minimal Nest app on Express 5 (one controller, no middleware), our packages,
//   3. our GET /api/v1/health (public),
//   4. our GET /api/v1/auth/me with a JWT, then with an API key.
// The database is the embedded default (PGlite on the server's worker thread), or DATABASE_URL.
// Goals: /health >= 0.8 x the minimal Nest app; /auth/me (JWT) >= 0.5 x our /health.
// `node bench/http.mjs --serve bare|nest` is how this script starts servers 1 and 2 (each prints its port).
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAppProcess } from './support.mjs';

const DURATION = Number(process.env.BENCH_SECONDS ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PAYLOAD = { status: 'ok', version: '0.1.0' };

if (process.argv[2] === '--serve') {
  await serve(process.argv[3]);
} else {
  await main();
}

/** Listens on a free loopback port (chosen by the system, so no other process can take it first) and prints it. */
async function serve(kind) {
  if (kind === 'bare') {
    const { createServer } = await import('node:http');
    const body = JSON.stringify(PAYLOAD);
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(body);
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));
    return;
  }
  // Plain JavaScript has no decorator syntax: the decorators are applied by hand.
  await import('reflect-metadata');
  const { Controller, Get, Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  class HealthController {
    health() {
      return PAYLOAD;
    }
  }
  const method = Object.getOwnPropertyDescriptor(HealthController.prototype, 'health');
  Get()(HealthController.prototype, 'health', method);
  Controller('health')(HealthController);
  class MinimalModule {}
  Module({ controllers: [HealthController] })(MinimalModule);
  const app = await NestFactory.create(MinimalModule, { logger: false, bodyParser: false });
  app.setGlobalPrefix('api/v1');
  await app.listen(0, '127.0.0.1');
  console.log(app.getHttpServer().address().port);
}

/** A child process running `--serve kind`, answering on its /api/v1/health. */
async function startServer(kind) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', kind], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (data) => resolve(Number(String(data).trim())));
    void exited.then(() => reject(new Error(`the ${kind} server exited before listening`)));
  });
  const base = `http://127.0.0.1:${port}/api/v1`;
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  return { base, stop };
}

async function post(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/** A fresh account on our server: its access token and an API key. */
async function credentials(base) {
  const email = `bench-${Date.now()}@example.com`;
  const { access_token: token } = await post(`${base}/auth/register`, {
    email,
    password: 'benchmark password',
  });
  const jwt = { authorization: `Bearer ${token}` };
  const { key } = await post(`${base}/auth/api-keys`, { name: 'bench' }, jwt);
  return { jwt, apiKey: { 'x-api-key': key } };
}

function load(url, headers = {}, duration = DURATION) {
  return new Promise((resolve, reject) => {
    autocannon({ url, headers, connections: CONNECTIONS, duration }, (err, res) => {
      if (err) return reject(err instanceof Error ? err : new Error(String(err)));
      const bad = res.non2xx + res.errors + res.timeouts;
      if (bad > 0) return reject(new Error(`${url}: ${bad} failed responses`));
      resolve({ rps: res.requests.average, p99: res.latency.p99 });
    });
  });
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'adiuva-bench-http-'));
  const external = process.env.DATABASE_URL;
  const servers = [];
  try {
    const bare = await startServer('bare');
    servers.push(bare);
    const nest = await startServer('nest');
    servers.push(nest);
    // No DATABASE_URL: the server starts its own embedded database in DATA_DIR, as `npm start` does.
    const ours = await startAppProcess({ url: external, embedded: false }, { DATA_DIR: dataDir });
    servers.push(ours);
    const { jwt, apiKey } = await credentials(ours.base);
    const lines = [
      { title: 'bare node:http (small JSON)', url: `${bare.base}/health` },
      { title: 'minimal Nest 12 app (Express 5)', url: `${nest.base}/health` },
      { title: 'our GET /health (public)', url: `${ours.base}/health` },
      { title: 'our GET /auth/me (JWT)', url: `${ours.base}/auth/me`, headers: jwt },
      { title: 'our GET /auth/me (API key)', url: `${ours.base}/auth/me`, headers: apiKey },
    ];
    for (const line of lines) await load(line.url, line.headers, 2); // warm-up (JIT, pools)
    for (let round = 1; round <= ROUNDS; round++) {
      for (const line of lines) {
        const result = await load(line.url, line.headers);
        if (!line.best || result.rps > line.best.rps) line.best = result;
      }
    }
    report(lines, external);
  } finally {
    for (const server of servers.reverse()) await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function report(lines, external) {
  const [, nest, health, jwt, apiKey] = lines;
  console.log(
    `\n${CONNECTIONS} connections, ${DURATION} s, best of ${ROUNDS} interleaved rounds; ` +
      `database: ${external ? 'DATABASE_URL (PostgreSQL server)' : 'embedded PGlite'}; node ${process.version}`,
  );
  console.log(`${'server'.padEnd(34)} ${'req/s'.padStart(8)} ${'p99 ms'.padStart(7)}`);
  for (const line of lines) {
    console.log(
      `${line.title.padEnd(34)} ${line.best.rps.toFixed(0).padStart(8)} ${String(line.best.p99).padStart(7)}`,
    );
  }
  const healthRatio = health.best.rps / nest.best.rps;
  const jwtRatio = jwt.best.rps / health.best.rps;
  const keyRatio = apiKey.best.rps / health.best.rps;
  const verdict = (ok) => (ok ? 'met' : 'NOT met');
  console.log(
    `\n/health / minimal Nest:    ${healthRatio.toFixed(2)} (goal >= 0.8: ${verdict(healthRatio >= 0.8)})`,
  );
  console.log(`/auth/me JWT / /health:    ${jwtRatio.toFixed(2)} (goal >= 0.5: ${verdict(jwtRatio >= 0.5)})`);
  console.log(`/auth/me API key / /health: ${keyRatio.toFixed(2)}`);
}
