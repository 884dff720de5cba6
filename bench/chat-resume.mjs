// npm run bench:chat (second part) — what resumable streams cost, and how fast a resume answers.
//
// Set-up: Redis (REDIS_URL, else a redis-server of our own on a free port), the embedded database (or
// DATABASE_URL), and three built servers in child processes sharing both: A and B with resume on (the
// event log in Redis Streams), C with CHAT_RESUME=false (no event log), DEFAULT_TIER=team. This process
// holds a local OpenAI-compatible fake (router: "task_agent"; agent: BENCH_TOKENS tokens " w0", " w1"…
// BENCH_TOKEN_MS apart, noting when it wrote each) and every Socket.IO / fetch client, on one clock.
//
// 1. Cost of keeping the event log: BENCH_RESUME_ROUNDS rounds, each one stream on A and one on C (order
//    alternating). Per-chunk latency = client arrival − the fake's write of the token that released the
//    chunk (which token releases which chunk: the app's own sanitizer over the same tokens). Redis commands
//    per chunk and per stream = the servers' commands (INFO commandstats, all commands, so the slot lease,
//    the cancel channel and the renewals are in too) during each server's streams ÷ its chunks / streams.
// 2. Time from reconnect to the first replayed event: a stream on A, the client drops after
//    BENCH_RESUME_AFTER chunks, then a new client resumes after the last seq it got: Socket.IO (connect +
//    `resume`, and `resume` alone on a connected socket) and SSE (GET with Last-Event-ID), on A itself
//    (the live run) and on B (the Redis log, then following it there).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { io } from 'socket.io-client';
import { Sanitizer } from '../dist/src/modules/chat/sanitizer.js';
import { freePort, startAppProcess, startDatabase } from './support.mjs';

const num = (name, def) => Number(process.env[name] ?? def);
const ROUNDS = num('BENCH_RESUME_ROUNDS', 20);
const TOKENS = num('BENCH_TOKENS', 200);
const TOKEN_MS = num('BENCH_TOKEN_MS', 10);
const RESUMES = num('BENCH_RESUMES', 20);
const DROP_AFTER = num('BENCH_RESUME_AFTER', 20);
const API_KEY = 'sk-bench';

const percentile = (xs, p) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] : NaN;
const f = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const pair = (xs) => `${f(percentile(xs, 0.5))} / ${f(percentile(xs, 0.99))}`;

// ---------------------------------------------------------------- the fake model provider
const writes = new Map();
async function answer(req, res) {
  const parts = [];
  for await (const c of req) parts.push(c);
  const body = JSON.parse(Buffer.concat(parts).toString('utf8'));
  const id = /bench:(\S+)/.exec(String(body.messages.findLast((m) => m.role === 'user')?.content))?.[1];
  const base = { id: `chatcmpl-${id}`, created: Math.floor(Date.now() / 1000), model: body.model };
  const chunk = (delta, finish = null) =>
    `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const usage = { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 };
  if (!body.tools?.length) {
    res.writeHead(200, { 'content-type': 'application/json' });
    const message = { role: 'assistant', content: 'task_agent', refusal: null };
    return res.end(
      JSON.stringify({
        ...base,
        object: 'chat.completion',
        choices: [{ index: 0, message, finish_reason: 'stop' }],
        usage,
      }),
    );
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(chunk({ role: 'assistant', content: '' }));
  const times = [];
  writes.set(id, times);
  for (let k = 0; k < TOKENS; k++) {
    if (res.destroyed) return;
    times[k] = performance.now();
    res.write(chunk({ content: ` w${k}` }));
    if (k < TOKENS - 1) await sleep(TOKEN_MS);
  }
  times.end = performance.now();
  const tail = body.stream_options?.include_usage
    ? `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`
    : '';
  res.end(chunk({}, 'stop') + tail + 'data: [DONE]\n\n');
}
const fake = createServer({ noDelay: true }, (req, res) => void answer(req, res));
await new Promise((resolve) => fake.listen(0, '127.0.0.1', resolve));

/** Which token's arrival releases each chunk (the app's sanitizer over the same tokens). */
const expected = (() => {
  const s = new Sanitizer([], []).stream();
  const out = [];
  for (let k = 0; k < TOKENS; k++) {
    const text = s.push(` w${k}`);
    if (text) out.push({ text, trigger: k });
  }
  const rest = s.end();
  if (rest) out.push({ text: rest, trigger: TOKENS });
  return out;
})();

// ---------------------------------------------------------------- Redis, the database, three servers
let redisServer;
let redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  if (spawnSync('redis-server', ['--version']).status !== 0)
    throw new Error('needs REDIS_URL or redis-server');
  const port = await freePort();
  redisServer = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  redisUrl = `redis://127.0.0.1:${port}`;
  await sleep(300);
}
const redis = new Redis(redisUrl);
const db = await startDatabase();
const dirs = [];
const server = (env) => {
  const dir = mkdtempSync(join(tmpdir(), 'adiuva-bench-resume-'));
  dirs.push(dir);
  return startAppProcess(db, {
    DATA_DIR: dir,
    REDIS_URL: redisUrl,
    JWT_SECRET: 'bench-resume-shared-secret-of-at-least-32-chars',
    DEFAULT_TIER: 'team',
    AUTH_RATE_LIMIT_PER_IP: '100000',
    OPENAI_API_KEY: API_KEY,
    OPENAI_BASE_URL: `http://127.0.0.1:${fake.address().port}/v1`,
    LLM_TIMEOUT_MS: '300000',
    ...env,
  });
};
const servers = [];
const sockets = [];
try {
  const a = await server({});
  servers.push(a);
  const b = await server({});
  servers.push(b);
  const c = await server({ CHAT_RESUME: 'false' });
  servers.push(c);
  const origin = (s) => s.base.replace('/api/v1', '');
  const res = await fetch(`${a.base}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `bench-resume-${Date.now()}@example.com`, password: 'benchmark password' }),
  });
  const { access_token: token } = await res.json();

  const connect = (s) =>
    new Promise((resolve, reject) => {
      const socket = io(`${origin(s)}/chat`, {
        auth: { token },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      });
      sockets.push(socket);
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', reject);
    });
  /** Events of one request id on a socket until done/error or `stopAfter` chunks; then `onStop`. */
  const follow = (socket, id, stopAfter = Infinity) =>
    new Promise((resolve) => {
      const got = [];
      const on = (event, data) => {
        if (data?.request_id !== id) return;
        got.push({ event, seq: data.seq, text: data.text, at: performance.now() });
        if (event !== 'chunk' || got.length >= stopAfter) {
          socket.offAny(on);
          resolve(got);
        }
      };
      socket.onAny(on);
    });
  const commands = async () => {
    const stats = await redis.info('commandstats');
    let total = 0;
    let xadd = 0;
    for (const [, name, calls] of stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) {
      if (name === 'info') continue;
      total += Number(calls);
      if (name === 'xadd') xadd += Number(calls);
    }
    return { total, xadd };
  };

  // ---------------------------------------------------------------- 1. cost of the event log
  const on = { perChunk: [], chunks: 0, streams: 0, total: 0, xadd: 0 };
  const off = { perChunk: [], chunks: 0, streams: 0, total: 0, xadd: 0 };
  const sockA = await connect(a);
  const sockC = await connect(c);
  const failures = [];
  for (let round = -2; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
    for (const kind of order) {
      const [socket, stats] = kind === 'on' ? [sockA, on] : [sockC, off];
      const id = `cost-${kind}-${round}`;
      const before = await commands();
      const events = follow(socket, id);
      socket.emit('chat', { request_id: id, message: `bench:${id}` });
      const got = await events;
      await sleep(50);
      const after = await commands();
      if (round < 0) continue;
      const chunks = got.filter((e) => e.event === 'chunk');
      if (got.at(-1)?.event !== 'done' || chunks.some((e, i) => e.text !== expected[i]?.text)) {
        failures.push(`${id}: ${got.at(-1)?.event}`);
        continue;
      }
      const times = writes.get(id);
      chunks.forEach((e, i) =>
        stats.perChunk.push(e.at - (expected[i].trigger < TOKENS ? times[expected[i].trigger] : times.end)),
      );
      stats.chunks += chunks.length;
      stats.streams++;
      stats.total += after.total - before.total;
      stats.xadd += after.xadd - before.xadd;
    }
  }

  // ---------------------------------------------------------------- 2. reconnect to the first replayed event
  const resume = { connectA: [], connectB: [], emitA: [], emitB: [], sseA: [], sseB: [] };
  const lost = [];
  const drop = async (id) => {
    const s = await connect(a);
    const first = follow(s, id, DROP_AFTER);
    s.emit('chat', { request_id: id, message: `bench:${id}` });
    const got = await first;
    s.disconnect();
    return got.at(-1).seq;
  };
  const check = (id, seq, got) => {
    if (got[0]?.seq !== seq + 1) lost.push(`${id}: first seq ${got[0]?.seq}, expected ${seq + 1}`);
  };
  for (let i = 0; i < RESUMES; i++) {
    for (const kind of ['A', 'B']) {
      const target = kind === 'A' ? a : b;
      let id = `rc-${kind}-${i}`;
      let seq = await drop(id);
      let t0 = performance.now();
      const s = await connect(target);
      let got = follow(s, id, 1);
      s.emit('resume', { request_id: id, after_seq: seq });
      let events = await got;
      resume[`connect${kind}`].push(events[0].at - t0);
      check(id, seq, events);
      s.disconnect();

      id = `re-${kind}-${i}`;
      const ready = await connect(target);
      seq = await drop(id);
      got = follow(ready, id, 1);
      t0 = performance.now();
      ready.emit('resume', { request_id: id, after_seq: seq });
      events = await got;
      resume[`emit${kind}`].push(events[0].at - t0);
      check(id, seq, events);
      ready.disconnect();

      id = `rs-${kind}-${i}`;
      seq = await drop(id);
      const abort = new AbortController();
      t0 = performance.now();
      const sse = await fetch(`${target.base}/chat/stream/${id}`, {
        headers: { authorization: `Bearer ${token}`, 'last-event-id': String(seq) },
        signal: abort.signal,
      });
      const reader = sse.body.getReader();
      const { value } = await reader.read();
      resume[`sse${kind}`].push(performance.now() - t0);
      const firstId = Number(/^id: (\d+)/m.exec(new TextDecoder().decode(value))?.[1]);
      if (firstId !== seq + 1) lost.push(`${id}: first SSE id ${firstId}, expected ${seq + 1}`);
      abort.abort();
      // Let the run finish (nobody follows: it runs out its grace period or its tokens) before the next.
      await sleep(TOKENS * TOKEN_MS);
    }
  }

  // ---------------------------------------------------------------- report
  console.log(
    `\nResume: ${ROUNDS} rounds of one stream each with the event log (A) and without (C, CHAT_RESUME=false), ` +
      `${TOKENS} tokens ${TOKEN_MS} ms apart, Redis ${process.env.REDIS_URL ? 'REDIS_URL' : 'own redis-server'}; ` +
      `${RESUMES} resumes of each kind after ${DROP_AFTER} chunks`,
  );
  if (failures.length || lost.length)
    console.log(`problems: ${[...failures, ...lost].slice(0, 10).join('; ')}`);
  const rows = [
    ['figure', 'resume on', 'resume off', 'added'],
    [
      'per-chunk latency ms p50 / p99',
      pair(on.perChunk),
      pair(off.perChunk),
      `${f(percentile(on.perChunk, 0.5) - percentile(off.perChunk, 0.5))} / ${f(percentile(on.perChunk, 0.99) - percentile(off.perChunk, 0.99))}`,
    ],
    [
      'Redis commands per chunk (XADD per chunk)',
      `${f(on.total / on.chunks, 3)} (${f(on.xadd / on.chunks, 3)})`,
      `${f(off.total / off.chunks, 3)} (${f(off.xadd / off.chunks, 3)})`,
      '',
    ],
    ['Redis commands per stream', f(on.total / on.streams, 1), f(off.total / off.streams, 1), ''],
    ['reconnect to first replayed event, ms p50 / p99', 'same instance (A)', 'other instance (B)', ''],
    ['  Socket.IO: connect + resume', pair(resume.connectA), pair(resume.connectB), ''],
    ['  Socket.IO: resume on a connected socket', pair(resume.emitA), pair(resume.emitB), ''],
    ['  SSE: GET with Last-Event-ID', pair(resume.sseA), pair(resume.sseB), ''],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log('');
  for (const row of rows)
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
} finally {
  for (const s of sockets) s.close();
  for (const s of servers) await s.stop();
  await db.stop();
  redis.disconnect();
  redisServer?.kill();
  fake.closeAllConnections();
  await new Promise((resolve) => fake.close(resolve));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
