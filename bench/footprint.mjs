// npm run bench:footprint — how much memory an idle server holds, on each database, per part.
// Each server is the built one (node dist/src/main.js) in a process of its own on a fresh DATA_DIR,
// measured from outside (/proc: VmRSS, threads) and through its own /metrics (the main thread's V8
// heap), twice: settled after start, and settled after a warm-up (one account registered, then
// 200 authenticated requests). Side by side in the same run:
//   1. bare node:http (what Node itself holds),
//   2. our server against PostgreSQL (DATABASE_URL; skipped without it),
//   3. our server on the embedded defaults, first start (a fresh data dir: initdb runs),
//   4. the same again on the data dir 3 created (how every later start looks).
// The parts: the main thread's heap (from /metrics), the embedded engine (3/4 minus 2 after the
// warm-up, both measured here), and the tokenizer worker (a process loading it, RSS before/after:
// it is not loaded by an idle server, only by the first call recorded without the provider's
// figures, and it stops after 5 idle minutes).
// Prints each server's warm RSS as a ratio to bare node:http's beside it.
// Goals (issue 38): idle ≤ 200 MiB against PostgreSQL, ≤ 450 MiB embedded.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAppProcess } from './support.mjs';

const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 3000);
const METRICS_TOKEN = 'bench-metrics-token-0123456789';
const MiB = 1024 * 1024;

const status = (pid, field) =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const rssMiB = (pid) => status(pid, 'VmRSS') / 1024;

async function metric(base, name) {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) / MiB : NaN;
}

async function snapshot(server) {
  await sleep(SETTLE_MS);
  return {
    rss: rssMiB(server.child.pid),
    heap: await metric(server.base, 'nodejs_heap_size_total_bytes'),
    threads: status(server.child.pid, 'Threads'),
  };
}

async function warmUp(base) {
  const email = `footprint-${Date.now()}@example.com`;
  const res = await fetch(`${base}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'benchmark password' }),
  });
  if (res.status !== 201) throw new Error(`register answered ${res.status}: ${await res.text()}`);
  const { access_token: token } = await res.json();
  const paths = ['/auth/me', '/storage/usage', '/health', '/billing/features'];
  for (let i = 0; i < 200; i++) {
    await (
      await fetch(`${base}${paths[i % paths.length]}`, { headers: { authorization: `Bearer ${token}` } })
    ).arrayBuffer();
  }
}

async function measureServer(label, db, dataDir) {
  const server = await startAppProcess(db, { DATA_DIR: dataDir, METRICS_TOKEN });
  try {
    const started = await snapshot(server);
    await warmUp(server.base);
    const warm = await snapshot(server);
    return { label, started, warm };
  } finally {
    await server.stop();
  }
}

/** A child process that runs `code` (an ES module, from a file: `-e` would make the workers' eval'd code ESM too) and prints its RSS in MiB. */
function childRss(code) {
  const dir = mkdtempSync(join(tmpdir(), 'footprint-probe-'));
  const file = join(dir, 'probe.mjs');
  writeFileSync(file, code);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      if (code === 0) resolve(JSON.parse(/^RESULT (.*)$/m.exec(out)[1]));
      else reject(new Error(`exited ${code}`));
    });
  });
}

const RSS_FN = `import { readFileSync } from 'node:fs';
const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;`;

async function bareNode() {
  return childRss(`${RSS_FN}
    const http = await import('node:http');
    const s = http.createServer((q, r) => r.end('{}')).listen(0);
    await new Promise((r) => setTimeout(r, ${SETTLE_MS}));
    console.log('RESULT ' + JSON.stringify(rss())); s.close();`);
}

async function tokenizer() {
  return childRss(`${RSS_FN}
    const { countTokens } = await import(${JSON.stringify(new URL('../dist/src/common/llm/tokens.js', import.meta.url).href)});
    await new Promise((r) => setTimeout(r, 500));
    const keepAlive = setInterval(() => {}, 1000); // the worker is unref'd, as in the server
    const before = rss();
    await countTokens(['hello world']);
    await new Promise((r) => setTimeout(r, ${SETTLE_MS}));
    console.log('RESULT ' + JSON.stringify(rss() - before)); process.exit(0);`);
}

const fmt = (n) => (Number.isFinite(n) ? n.toFixed(0).padStart(5) : '    –');

async function main() {
  const rows = [];
  const bare = await bareNode();
  const pgUrl = process.env.DATABASE_URL;
  if (pgUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'footprint-pg-'));
    rows.push({ ...(await measureServer('PostgreSQL', { url: pgUrl, embedded: false }, dir)), goal: 200 });
    rmSync(dir, { recursive: true, force: true });
  }
  const dir = mkdtempSync(join(tmpdir(), 'footprint-embedded-'));
  // Embedded: no DATABASE_URL at all, as `npm start` runs it.
  const embedded = { url: '', embedded: false };
  rows.push({ ...(await measureServer('embedded, first start', embedded, dir)), goal: 450 });
  rows.push({ ...(await measureServer('embedded, later start', embedded, dir)), goal: 450 });
  rmSync(dir, { recursive: true, force: true });
  const tokenizerMiB = await tokenizer();

  console.log(`\nIdle footprint (MiB; settled ${SETTLE_MS} ms; Node ${process.version})`);
  console.log('server                    RSS start  RSS warm  × bare (warm)  main heap  threads  goal  ');
  console.log(`bare node:http            ${fmt(bare)}                                                     `);
  for (const r of rows) {
    const ok = r.warm.rss <= r.goal ? 'met' : 'NOT met';
    const ratio = `${(r.warm.rss / bare).toFixed(2)}x`.padStart(13);
    console.log(
      `${r.label.padEnd(24)}  ${fmt(r.started.rss)}     ${fmt(r.warm.rss)}     ${ratio}      ${fmt(r.warm.heap)}      ${String(r.warm.threads).padStart(3)}   ≤${r.goal} ${ok}`,
    );
  }
  const pg = rows.find((r) => r.label === 'PostgreSQL');
  const later = rows.find((r) => r.label === 'embedded, later start');
  if (pg && later)
    console.log(
      `\nembedded engine (later start − PostgreSQL, warm): ${fmt(later.warm.rss - pg.warm.rss)} MiB`,
    );
  console.log(`tokenizer worker when loaded (not at idle):       ${fmt(tokenizerMiB)} MiB`);
}

await main();
