// npm run bench:sockets — push fan-out over Socket.IO, measured from outside: the time from one record
// write (POST /storage/records, whose commit pushes `storage:changed` to the account's room on `/`) to
// its arrival at every socket that must get it, and the server's memory per idle socket.
//
// Set-up: the built server runs as a child process (node dist/src/main.js, DEFAULT_TIER=team, request
// limits off, SOCKET_MAX_CONNECTIONS_PER_ACCOUNT raised to the socket count) against one database
// (embedded PGlite served from this process, or DATABASE_URL), so its RSS, CPU and event loop are its
// own. The sockets live in BENCH_CLIENTS child processes (bench/sockets-client.mjs: real
// socket.io-client connections, websocket transport, one connection each), which stamp each arrival
// with process.hrtime, the same monotonic clock as this process's, where the writes are sent from.
// Baseline, side by side in the same run: a bare Socket.IO server (bench/sockets-bare.mjs, default
// options, in a process of its own, no auth, no database) whose POST /emit emits the same event to a
// room of the same number of sockets from the same client processes. Ours and the baseline alternate
// write by write, so a change of load on the machine falls on both.
//
// (a) BENCH_SOCKETS (1,000) sockets of one account; BENCH_WRITES (300, after BENCH_WARMUP 20) writes,
//     one at a time: per write, the latency to the last socket (every socket got it: the figure the
//     goal is about), to the first, and of the write's HTTP answer; each event must reach every socket
//     exactly once.
// (b) BENCH_SOCKETS accounts with one socket each, all connected: one write per account, first one at
//     a time (what a push costs an instance holding 1,000 accounts' sockets: the goal's figure), then
//     BENCH_WRITERS (8) in flight (many users writing at once; there the writes queue for the
//     database, the embedded one serving one session, so it shows write throughput more than
//     fan-out), BENCH_BURSTS (1) passes of each; per write, the latency to its account's socket. Each
//     event must reach its own account's socket and no other. One event fanned out to 1,000 accounts
//     does not exist in the product (a write belongs to one account), so this is what "1,000
//     accounts" means for a push.
// (c) RSS per idle socket: the server's RSS after a full GC (--expose-gc) with (a)'s sockets connected
//     and idle, minus before they connected (after 20 sockets came and went, so that the connection
//     path's compiled code is not counted), divided by their count; the JS heap per socket beside it.
//     RSS under-counts when the sockets fill pages the heap already held (the app's start-up leaves
//     many), so the figure held against the goal is the larger of the RSS and the heap growth.
// (d) Two instances of the server with REDIS_URL (BENCH_REDIS_URL, default redis://127.0.0.1:6379/3)
//     against one PostgreSQL server (BENCH_SHARED_DATABASE_URL, else DATABASE_URL: the embedded
//     database serves one session, so two servers cannot share it), BENCH_SOCKETS sockets of one
//     account split across both, every write sent to the first: latency to the last socket, as (a).
//     Baseline: two bare servers with the Redis adapter. Skipped, saying why, without either.
// Goals: p99 <= 50 ms in (a) and (b), <= 10 KiB RSS per idle socket, p99 <= 80 ms in (d).
// BENCH_PARTS=a,b,d picks the parts ((c) comes with (a)).
// BENCH_CPU_PROF=<dir> runs our servers with --cpu-prof (profiles written there when they stop).
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startAppProcess, startDatabase } from './support.mjs';

const num = (name, def) => Number(process.env[name] ?? def);
const SOCKETS = num('BENCH_SOCKETS', 1000);
const WRITES = num('BENCH_WRITES', 300);
const WARMUP = num('BENCH_WARMUP', 20);
const WRITERS = num('BENCH_WRITERS', 8);
const BURSTS = num('BENCH_BURSTS', 1);
const CLIENTS = num('BENCH_CLIENTS', 2);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/3';
const SHARED_DATABASE_URL = process.env.BENCH_SHARED_DATABASE_URL ?? process.env.DATABASE_URL;
const PARTS = new Set((process.env.BENCH_PARTS ?? 'a,b,d').split(','));
const CPU_PROF = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;
const WRITE_TIMEOUT_MS = 20_000;

const here = dirname(fileURLToPath(import.meta.url));
const now = () => Number(process.hrtime.bigint()) / 1e6;
const percentile = (xs, p) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] : NaN;
const f = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const pair = (xs) => `${f(percentile(xs, 0.5))} / ${f(percentile(xs, 0.99))}`;

// ---------------------------------------------------------------- servers
// Preloaded into our server: a full GC and the memory after it, asked over the IPC channel.
const probe = `process.on('message', (m) => {
  if (m === 'mem:gc') {
    globalThis.gc();
    const { rss, heapUsed } = process.memoryUsage();
    process.send({ mem: { rss, heapUsed } });
  }
});
process.channel?.unref();`;

/** Sends `message` to `child`; resolves to the `key` of its first answer that has one (`whole`: that answer). */
function ask(child, message, key, whole = false) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${key} from pid ${child.pid}`)), 600_000);
    const on = (m) => {
      if (m?.[key] === undefined) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(whole ? m : m[key]);
    };
    child.on('message', on);
    child.send(message);
  });
}

const blob = randomBytes(64);
const recordBody = JSON.stringify({
  table: 'notes',
  blob: blob.toString('base64'),
  checksum: createHash('sha256').update(blob).digest('hex'),
});

async function startOurs(db, name, env = {}) {
  const dataDir = join(work, name);
  mkdirSync(dataDir, { recursive: true });
  const nodeArgs = ['--expose-gc', '--import', `data:text/javascript,${encodeURIComponent(probe)}`];
  if (CPU_PROF)
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`, `--cpu-prof-name=${name}.cpuprofile`);
  const server = await startAppProcess(
    db,
    {
      DATA_DIR: dataDir,
      DEFAULT_TIER: 'team',
      // One secret for every instance: the tokens are registered on the first.
      JWT_SECRET: 'bench-sockets-signing-secret-0123456789abcdef',
      SOCKET_MAX_CONNECTIONS_PER_ACCOUNT: String(Math.max(SOCKETS, 20)),
      AUTH_RATE_LIMIT_PER_IP: '100000',
      AUTH_RATE_LIMIT_PER_ACCOUNT: '100000',
      ...env,
    },
    { nodeArgs, ipc: true },
  );
  const origin = server.base.replace(/\/api\/v1$/, '');
  return {
    name: 'ours',
    origin,
    cpuMs: server.cpuMs,
    memGc: () => ask(server.child, 'mem:gc', 'mem'),
    /** One record write of the account `token`; resolves to the event's id and the answer's time. */
    write: async (token) => {
      const res = await fetch(`${server.base}/storage/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: recordBody,
      });
      const answeredAt = now();
      if (res.status !== 201)
        throw new Error(`POST /storage/records answered ${res.status}: ${await res.text()}`);
      return { id: (await res.json()).id, answeredAt };
    },
    stop: server.stop,
    logs: server.logs,
  };
}

async function startBare(redisUrl) {
  const child = fork(join(here, 'sockets-bare.mjs'), {
    execArgv: ['--expose-gc'],
    env: { PATH: process.env.PATH, ...(redisUrl ? { BARE_REDIS_URL: redisUrl } : {}) },
  });
  const port = await new Promise((resolve) => child.once('message', (m) => resolve(m.port)));
  const origin = `http://127.0.0.1:${port}`;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    name: 'bare',
    origin,
    cpuMs: () => {
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10;
    },
    memGc: () => ask(child, 'mem:gc', 'mem'),
    write: async (room) => {
      const res = await fetch(`${origin}/emit`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ room }),
      });
      const answeredAt = now();
      if (res.status !== 201) throw new Error(`bare /emit answered ${res.status}`);
      return { id: (await res.json()).id, answeredAt };
    },
    stop: async () => {
      child.send('stop');
      await exited;
    },
    logs: () => '',
  };
}

// ---------------------------------------------------------------- clients
const clients = [];
/** Reports of arrivals by event id ({ times, sockets, client }), and who waits for them. */
const arrivals = new Map();
const waiters = new Map();

function onArrived(client, { id, times, sockets }) {
  let list = arrivals.get(id);
  if (!list) arrivals.set(id, (list = []));
  list.push({ times, sockets, client });
  waiters.get(id)?.();
}

async function startClients() {
  for (let c = 0; c < CLIENTS; c++) {
    const child = fork(join(here, 'sockets-client.mjs'), { env: { PATH: process.env.PATH } });
    await new Promise((resolve) => child.once('message', resolve));
    child.on('message', (m) => m.arrived && onArrived(c, m.arrived));
    clients.push(child);
  }
}

/** Connects one socket per token to `origin`, the tokens dealt to the client processes in turn. */
async function connectAll(origin, tokens, clientIndexes = clients.map((_, i) => i)) {
  const shares = clientIndexes.map(() => []);
  tokens.forEach((t, i) => shares[i % shares.length].push(t));
  const results = await Promise.all(
    clientIndexes.map((c, i) =>
      ask(clients[c], { connect: { url: origin, tokens: shares[i] } }, 'connected', true),
    ),
  );
  const connected = results.reduce((n, r) => n + r.connected, 0);
  if (connected !== tokens.length) {
    const error = results.find((r) => r.firstError)?.firstError;
    throw new Error(`${connected} of ${tokens.length} sockets connected to ${origin}: ${error}`);
  }
  return shares.map((s) => s.length);
}

const expectEach = (perClient) =>
  Promise.all(clients.map((c, i) => ask(c, { expect: perClient[i] }, 'expecting')));
const collect = async () => {
  const all = await Promise.all(clients.map((c) => ask(c, { collect: true }, 'counts')));
  const total = new Map();
  for (const counts of all)
    for (const [id, n] of Object.entries(counts)) total.set(id, (total.get(id) ?? 0) + n);
  arrivals.clear();
  return total;
};
const closeAll = () => Promise.all(clients.map((c) => ask(c, { close: true }, 'closed')));

/**
 * One write through `server` for `token`, resolved once `reports` client reports of its event are in
 * (each client reports when its expected number of sockets got it): latencies from the send, in ms.
 */
async function timedWrite(server, token, reports) {
  const t0 = now();
  const { id, answeredAt } = await server.write(token);
  const complete = () => (arrivals.get(id)?.length ?? 0) >= reports;
  if (!complete()) {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(id);
        reject(
          new Error(
            `${server.name}: event ${id} reached ${arrivals.get(id)?.length ?? 0} of ${reports} client processes' sockets in ${WRITE_TIMEOUT_MS} ms`,
          ),
        );
      }, WRITE_TIMEOUT_MS);
      waiters.set(id, () => {
        if (!complete()) return;
        clearTimeout(timer);
        waiters.delete(id);
        resolve();
      });
    });
  }
  const reps = arrivals.get(id);
  const times = reps.flatMap((r) => r.times);
  return {
    id,
    sockets: reps.flatMap((r) => r.sockets.map((s) => `${r.client}:${s}`)),
    answered: answeredAt - t0,
    first: Math.min(...times) - t0,
    last: Math.max(...times) - t0,
    perSocket: times.map((t) => t - t0),
  };
}

const newStats = () => ({
  last: [],
  first: [],
  answered: [],
  perSocket: [],
  cpuMs: 0,
  wallMs: 0,
  problems: [],
});
function keep(stats, r) {
  stats.last.push(r.last);
  stats.first.push(r.first);
  stats.answered.push(r.answered);
  for (const x of r.perSocket) stats.perSocket.push(x);
}

/** (a) and (d): writes one at a time, ours and the baseline alternating; every socket must get each. */
async function fanOut(pairs, sockets) {
  const out = { ours: newStats(), bare: newStats() };
  for (let i = 0; i < WARMUP + WRITES; i++) {
    for (const { server, token } of i % 2 ? [...pairs].reverse() : pairs) {
      const cpu0 = server.cpuMs();
      const r = await timedWrite(server, token, clients.length);
      if (i < WARMUP) continue;
      const s = out[server.name];
      s.cpuMs += server.cpuMs() - cpu0;
      if (new Set(r.sockets).size !== sockets)
        s.problems.push(`${r.id} reached ${new Set(r.sockets).size} distinct sockets`);
      keep(s, r);
    }
  }
  for (const [id, n] of await collect()) {
    if (n !== sockets) out.ours.problems.push(`event ${id}: ${n} arrivals, expected ${sockets}`);
  }
  return out;
}

/** (b) a burst of one write per account, WRITERS in flight; each must reach its own account's socket only. */
async function burst(server, tokens, socketOf, writers) {
  const s = newStats();
  const cpu0 = server.cpuMs();
  const start = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < tokens.length) {
        const k = next++;
        const r = await timedWrite(server, tokens[k], 1);
        if (r.sockets.length !== 1 || r.sockets[0] !== socketOf(k)) {
          s.problems.push(`account ${k}'s event reached ${r.sockets.join(', ')}, expected ${socketOf(k)}`);
        }
        keep(s, r);
      }
    }),
  );
  s.wallMs = now() - start;
  s.cpuMs = server.cpuMs() - cpu0;
  const counts = await collect();
  for (const [id, n] of counts) if (n !== 1) s.problems.push(`event ${id}: ${n} arrivals, expected 1`);
  return s;
}

async function register(base, email) {
  const res = await fetch(`${base}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'benchmark password' }),
  });
  if (res.status !== 201) throw new Error(`register answered ${res.status}: ${await res.text()}`);
  return (await res.json()).access_token;
}

async function registerMany(base, n, prefix) {
  const tokens = [];
  for (let i = 0; i < n; i += 8) {
    const batch = Array.from({ length: Math.min(8, n - i) }, (_, j) =>
      register(base, `${prefix}-${i + j}@example.com`),
    );
    tokens.push(...(await Promise.all(batch)));
  }
  return tokens;
}

async function redisAnswers(url) {
  const r = new Redis(url, {
    maxRetriesPerRequest: 0,
    lazyConnect: true,
    connectTimeout: 2000,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

// ---------------------------------------------------------------- run
const work = mkdtempSync(join(tmpdir(), 'adiuva-bench-sockets-'));
const db = await startDatabase();
const running = [];
const rows = [];
const notes = [];
try {
  await startClients();
  const stamp = Date.now();
  const ours = await startOurs(db, 'single');
  const bare = await startBare();
  running.push(ours, bare);
  const base = `${ours.origin}/api/v1`;

  // (c) then (a): one account's sockets, idle, then one write at a time.
  const [owner] = await registerMany(base, 1, `bench-sockets-${stamp}-owner`);
  const memory = {};
  // The connection path's code compiled first, so that what follows counts only what sockets keep.
  for (const server of [bare, ours])
    await connectAll(server.origin, Array(20).fill(server === ours ? owner : 'room-a'));
  await closeAll();
  await sleep(500);
  for (const server of [bare, ours]) {
    const before = await server.memGc();
    await connectAll(server.origin, Array(SOCKETS).fill(server === ours ? owner : 'room-a'));
    await sleep(2000);
    const after = await server.memGc();
    const rss = (after.rss - before.rss) / 1024 / SOCKETS;
    const heap = (after.heapUsed - before.heapUsed) / 1024 / SOCKETS;
    // The heap's pages that hold the sockets are resident: RSS grew by at least that much, even when
    // it reads less because the sockets filled pages a GC had emptied but the process still held.
    memory[server.name] = { rss, heap, counted: Math.max(rss, heap) };
  }
  const shares = clients.map((_, i) => Math.floor(SOCKETS / CLIENTS) + (i < SOCKETS % CLIENTS ? 1 : 0));
  await expectEach(shares);
  const a = await fanOut(
    [
      { server: ours, token: owner },
      { server: bare, token: 'room-a' },
    ],
    SOCKETS,
  );
  await closeAll();

  // (b) one socket for each of SOCKETS accounts.
  /** (b) by writes in flight: 1 (the goal's figure), then WRITERS. */
  const b = { 1: { ours: newStats(), bare: newStats() }, [WRITERS]: { ours: newStats(), bare: newStats() } };
  if (PARTS.has('b')) {
    const accounts = await registerMany(base, SOCKETS, `bench-sockets-${stamp}`);
    await connectAll(ours.origin, accounts);
    await connectAll(
      bare.origin,
      accounts.map((_, k) => `room-b-${k}`),
    );
    await expectEach(clients.map(() => 1));
    // Account k's socket is the (k div CLIENTS)-th of client k mod CLIENTS, on each server; the bare
    // server's sockets of a client come after ours there.
    const perClient = shares;
    for (let round = 0; round < 2 * BURSTS; round++) {
      const writers = round < BURSTS ? 1 : WRITERS;
      for (const server of round % 2 ? [bare, ours] : [ours, bare]) {
        const tokens = server === ours ? accounts : accounts.map((_, k) => `room-b-${k}`);
        const offset = server === ours ? 0 : 1;
        const r = await burst(
          server,
          tokens,
          (k) => `${k % CLIENTS}:${offset * perClient[k % CLIENTS] + Math.floor(k / CLIENTS)}`,
          writers,
        );
        const s = b[writers][server.name];
        for (const key of ['last', 'first', 'answered', 'perSocket', 'problems']) s[key].push(...r[key]);
        s.cpuMs += r.cpuMs;
        s.wallMs += r.wallMs;
      }
    }
    await closeAll();
  }
  for (const s of running.splice(0)) await s.stop();

  // (d) two instances over Redis, the sockets split across them, every write sent to the first.
  let d;
  if (!PARTS.has('d')) {
    // not asked for
  } else if (!SHARED_DATABASE_URL) {
    notes.push('(d) skipped: set BENCH_SHARED_DATABASE_URL (or DATABASE_URL) to a PostgreSQL server');
  } else if (!(await redisAnswers(REDIS_URL))) {
    notes.push(`(d) skipped: Redis at ${REDIS_URL} did not answer`);
  } else {
    const shared = { url: SHARED_DATABASE_URL, embedded: false, stop: () => Promise.resolve() };
    const ours1 = await startOurs(shared, 'redis-1', { REDIS_URL });
    const ours2 = await startOurs(shared, 'redis-2', { REDIS_URL });
    const [owner] = await registerMany(ours1.origin + '/api/v1', 1, `bench-sockets-${stamp}-redis`);
    const bare1 = await startBare(REDIS_URL);
    const bare2 = await startBare(REDIS_URL);
    running.push(ours1, ours2, bare1, bare2);
    const half = Math.floor(SOCKETS / 2);
    // Each client process holds sockets on both instances.
    const first = await connectAll(ours1.origin, Array(half).fill(owner));
    const second = await connectAll(ours2.origin, Array(SOCKETS - half).fill(owner));
    await connectAll(bare1.origin, Array(half).fill('room-d'));
    await connectAll(bare2.origin, Array(SOCKETS - half).fill('room-d'));
    await expectEach(first.map((n, i) => n + second[i]));
    await sleep(1000);
    d = await fanOut(
      [
        { server: ours1, token: owner },
        { server: bare1, token: 'room-d' },
      ],
      SOCKETS,
    );
    await closeAll();
  }

  // ---------------------------------------------------------------- report
  const ratio = (x, y) => (Number.isFinite(x / y) ? `${(x / y).toFixed(2)}x` : '-');
  const goal = (x, max, unit = 'ms') => `<= ${max} ${unit}: ${x <= max ? 'met' : 'NOT met'}`;
  const latencyRows = (label, s, max) => [
    [
      `${label}: all sockets got it, p50 / p99 ms`,
      pair(s.ours.last),
      pair(s.bare.last),
      `${ratio(percentile(s.ours.last, 0.5), percentile(s.bare.last, 0.5))} / ${ratio(percentile(s.ours.last, 0.99), percentile(s.bare.last, 0.99))}`,
      `p99 ${goal(percentile(s.ours.last, 0.99), max)}`,
    ],
    ['  first socket got it, p50 / p99 ms', pair(s.ours.first), pair(s.bare.first), '', ''],
    ['  each socket (all arrivals), p50 / p99 ms', pair(s.ours.perSocket), pair(s.bare.perSocket), '', ''],
    ['  the write answered, p50 / p99 ms', pair(s.ours.answered), pair(s.bare.answered), '', ''],
    [
      '  server CPU per write, ms',
      f(s.ours.cpuMs / Math.max(1, s.ours.last.length), 2),
      f(s.bare.cpuMs / Math.max(1, s.bare.last.length), 2),
      '',
      '',
    ],
  ];
  rows.push(['figure', 'ours', 'bare Socket.IO', 'ratio', 'goal']);
  rows.push(...latencyRows(`(a) ${SOCKETS} sockets of one account, ${WRITES} writes`, a, 50));
  const burstRows = (writers, goalMs) => {
    const x = b[writers];
    const label =
      writers === 1
        ? `(b) ${SOCKETS} accounts x 1 socket, one write per account, 1 in flight: its socket got it, p50 / p99 ms`
        : `    the same, ${WRITERS} writes in flight: its socket got it, p50 / p99 ms`;
    return [
      [
        label,
        pair(x.ours.last),
        pair(x.bare.last),
        `${ratio(percentile(x.ours.last, 0.5), percentile(x.bare.last, 0.5))} / ${ratio(percentile(x.ours.last, 0.99), percentile(x.bare.last, 0.99))}`,
        goalMs ? `p99 ${goal(percentile(x.ours.last, 0.99), goalMs)}` : '',
      ],
      ['      the write answered, p50 / p99 ms', pair(x.ours.answered), pair(x.bare.answered), '', ''],
      [
        '      writes/s',
        f((x.ours.last.length * 1000) / x.ours.wallMs, 0),
        f((x.bare.last.length * 1000) / x.bare.wallMs, 0),
        '',
        '',
      ],
      [
        '      server CPU per write, ms',
        f(x.ours.cpuMs / Math.max(1, x.ours.last.length), 2),
        f(x.bare.cpuMs / Math.max(1, x.bare.last.length), 2),
        '',
        '',
      ],
    ];
  };
  if (PARTS.has('b')) rows.push(...burstRows(1, 50), ...burstRows(WRITERS));
  rows.push(
    [
      `(c) RSS per idle socket, KiB (${SOCKETS} sockets; the larger of the two below)`,
      f(memory.ours.counted),
      f(memory.bare.counted),
      ratio(memory.ours.counted, memory.bare.counted),
      goal(memory.ours.counted, 10, 'KiB'),
    ],
    ['  RSS growth after GC, per socket, KiB', f(memory.ours.rss), f(memory.bare.rss), '', ''],
    [
      '  JS heap growth after GC, per socket, KiB',
      f(memory.ours.heap),
      f(memory.bare.heap),
      ratio(memory.ours.heap, memory.bare.heap),
      '',
    ],
  );
  if (d)
    rows.push(
      ...latencyRows(`(d) Redis adapter, 2 instances, ${SOCKETS} sockets split, write on the first`, d, 80),
    );
  const problems = [a, b[1], b[WRITERS], ...(d ? [d] : [])].flatMap((s) => [
    ...s.ours.problems,
    ...s.bare.problems,
  ]);
  console.log(
    `\nbench:sockets — ${SOCKETS} sockets over ${CLIENTS} client processes; database ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PGlite (this process)'}; node ${process.version}`,
  );
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => String(row[c]).length)));
  for (const row of rows)
    console.log(
      row
        .map((cell, c) => String(cell).padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    );
  for (const n of notes) console.log(n);
  console.log(
    problems.length
      ? `DELIVERY PROBLEMS (${problems.length}):\n  ${problems.slice(0, 10).join('\n  ')}`
      : 'delivery: every event reached every socket it had to, and no other',
  );
  if (problems.length) process.exitCode = 1;
} catch (err) {
  for (const s of running) console.error(`--- ${s.name} log tail:\n${s.logs().slice(-3000)}`);
  throw err;
} finally {
  for (const s of running) await s.stop().catch(() => undefined);
  for (const c of clients) c.kill();
  await db.stop();
  rmSync(work, { recursive: true, force: true });
}
