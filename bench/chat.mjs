// npm run bench:chat — what our chat streaming adds on top of the model provider, and 1,000 concurrent
// Socket.IO streams on one instance.
//
// Set-up: the built server runs as a child process (node dist/src/main.js, embedded database, a fresh
// temporary DATA_DIR, DEFAULT_TIER=team, request limits off, sign-up limit raised), so its RSS and event
// loop are its own. This process holds a local OpenAI-compatible fake (OPENAI_BASE_URL points at it) and
// every client, so the fake's write times and the clients' arrival times share one performance.now()
// clock. The fake answers the router call (no tools; JSON, or SSE if asked) with "task_agent" and the
// agent call (with tools, streamed) with BENCH_TOKENS tokens " w0", " w1"… BENCH_TOKEN_MS apart, noting
// when it wrote each one; the user message names the stream ("bench:<id>") so each model call is matched
// to its client request.
//
// Part 1 (BENCH_REQUESTS rounds after BENCH_WARMUP, one stream at a time, order rotating in each round):
// (a) a client reading the fake directly (the agent's streaming request via fetch), (b) our SSE stream
// POST /api/v1/chat/stream, (c) our Socket.IO namespace /chat on an already connected socket.
// - TTFT added = our time to the first chunk with a word of the answer − the router call's time at the
//   fake (arrival of its request to the end of its answer) − the direct client's TTFT in the same round.
//   The sanitizer holds back the last words of a stream (a prompt passage split across chunks must be
//   caught before any of it is sent), so a word leaves only when later tokens arrive: we report TTFT
//   added with that hold, and without it (minus the time between the model's first token and the token
//   whose arrival released the chunk). The goal (<= 5 ms p50) is checked on the figure without the hold.
// - Per-chunk latency = client arrival − the fake's write of the token that released the chunk (for
//   direct: of that token itself; for our last chunk, flushed when the model stream ends: the fake's end
//   of the answer). Which token releases which chunk comes from running the app's own sanitizer (from
//   dist) over the same tokens; the chunks received must be exactly those. Added = ours − direct (p50 and
//   p99 of each distribution). Also shown: latency per token including the hold, and tokens held.
// Part 2: BENCH_STREAMS concurrent Socket.IO streams (BENCH_STREAMS_PER_USER per user, the team cap, over
// BENCH_SOCKETS_PER_USER sockets per user), BENCH_STREAM_TOKENS tokens each, started BENCH_RAMP at a time
// (0: all at once; with the embedded database's single connection a burst of 1,000 chat events, each
// reading the session and tier again, queues past the pool's connect timeout). The fake holds every agent
// answer until all streams' agent calls have arrived, so all streams are open at once before any token
// flows. Every stream must end in done with seq 0, 1, 2… (nothing lost, repeated or reordered), its
// chunks joined equal to done.response and to what the fake sent. RSS per open stream = the server's
// VmRSS (/proc/<pid>/status) with all streams open − with the sockets connected and no stream started,
// ÷ open streams: as read, after a full GC in the server (it runs with --expose-gc), and the peak while
// tokens flow; RSS under-counts when V8 reuses pages it already holds, so the JS heap after GC per
// stream is shown too. Server CPU (/proc/<pid>/stat) while tokens flow is divided by chunks delivered.
// The server's event-loop lag comes from a perf_hooks.monitorEventLoopDelay histogram inside the server
// process (a module preloaded with --import, read over the IPC channel) minus its 10 ms sampling
// interval, for the start of the streams and for the tokens flowing; this process's own lag is shown
// too, to tell a saturated load generator from a saturated server.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { io } from 'socket.io-client';
import { Sanitizer } from '../dist/src/modules/chat/sanitizer.js';

const num = (name, def) => Number(process.env[name] ?? def);
const N = num('BENCH_REQUESTS', 30);
const WARMUP = num('BENCH_WARMUP', 3);
const TOKENS = num('BENCH_TOKENS', 200);
const TOKEN_MS = num('BENCH_TOKEN_MS', 10);
const STREAMS = num('BENCH_STREAMS', 1000);
const STREAM_TOKENS = num('BENCH_STREAM_TOKENS', 50);
const PER_USER = num('BENCH_STREAMS_PER_USER', 10);
const SOCKETS_PER_USER = num('BENCH_SOCKETS_PER_USER', 2);
const RAMP = num('BENCH_RAMP', 50) || STREAMS;
const API_KEY = 'sk-bench';
const LAG_RESOLUTION_MS = 10;

const percentile = (xs, p) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] : NaN;
const p50 = (xs) => percentile(xs, 0.5);
const p99 = (xs) => percentile(xs, 0.99);
const f = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

// ---------------------------------------------------------------- the fake model provider
/** Per stream id: what the fake saw and wrote, with performance.now() times. */
const seen = new Map();
const recordOf = (id) => {
  let r = seen.get(id);
  if (!r) seen.set(id, (r = { writes: [], text: '' }));
  return r;
};
/** Part 2: agent answers wait here until every stream's agent call has arrived. */
let barrier;
const tokenText = (id, k) => (id.startsWith('c') ? ` ${id}w${k}` : ` w${k}`);
const tokensFor = (id) => (id.startsWith('c') ? STREAM_TOKENS : TOKENS);

async function answer(req, res) {
  const arrived = performance.now();
  const parts = [];
  for await (const c of req) parts.push(c);
  if (req.headers.authorization !== `Bearer ${API_KEY}`) {
    res.writeHead(401, { 'content-type': 'application/json' });
    return res.end(
      JSON.stringify({ error: { message: 'Incorrect API key provided.', type: 'invalid_request_error' } }),
    );
  }
  const body = JSON.parse(Buffer.concat(parts).toString('utf8'));
  const user = body.messages.findLast((m) => m.role === 'user');
  const id = /bench:(\S+)/.exec(String(user?.content ?? ''))?.[1] ?? 'unknown';
  const r = recordOf(id);
  const base = { id: `chatcmpl-${id}`, created: Math.floor(Date.now() / 1000), model: body.model };
  const usage = { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 };
  const includeUsage = body.stream === true && body.stream_options?.include_usage === true;
  const chunk = (delta, finish = null) =>
    `data: ${JSON.stringify({
      ...base,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    })}\n\n`;
  const tail = () =>
    (includeUsage
      ? `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`
      : '') + 'data: [DONE]\n\n';

  if (!body.tools?.length) {
    // The router call: an agent name.
    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk({ role: 'assistant', content: '' }));
      res.write(chunk({ content: 'task_agent' }));
      res.end(chunk({}, 'stop') + tail());
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ...base,
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: 'task_agent', refusal: null },
              logprobs: null,
              finish_reason: 'stop',
            },
          ],
          usage,
        }),
      );
    }
    r.routerArrived = arrived;
    r.routerEnd = performance.now();
    r.routerMs = r.routerEnd - arrived;
    return;
  }

  // The agent call: tokens, streamed.
  r.agentArrived = arrived;
  if (!body.stream) {
    res.writeHead(400, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ error: { message: 'bench fake: expected a streaming agent call' } }));
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.write(chunk({ role: 'assistant', content: '', refusal: null }));
  if (barrier) await barrier.arrive();
  const n = tokensFor(id);
  for (let k = 0; k < n; k++) {
    if (res.destroyed) return;
    const text = tokenText(id, k);
    r.writes[k] = performance.now();
    r.text += text;
    res.write(chunk({ content: text }));
    if (k < n - 1) await sleep(TOKEN_MS);
  }
  if (res.destroyed) return;
  res.end(chunk({}, 'stop') + tail());
  r.endAt = performance.now();
}
const fake = createServer({ noDelay: true }, (req, res) => void answer(req, res));
await new Promise((resolve) => fake.listen(0, '127.0.0.1', resolve));
const fakeBase = `http://127.0.0.1:${fake.address().port}/v1`;

/** Which token's arrival releases each chunk: the app's own sanitizer (defaults) over the same tokens. */
function releases(tokens) {
  const s = new Sanitizer([], []).stream();
  const out = [];
  tokens.forEach((t, k) => {
    const text = s.push(t);
    if (text) out.push({ text, trigger: k });
  });
  const rest = s.end();
  if (rest) out.push({ text: rest, trigger: tokens.length });
  return out;
}

// ---------------------------------------------------------------- the server, in a child process
const port = await new Promise((resolve) => {
  const s = createNetServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const probe = `import { monitorEventLoopDelay } from 'node:perf_hooks';
const h = monitorEventLoopDelay({ resolution: ${LAG_RESOLUTION_MS} });
h.enable();
process.on('message', (m) => {
  if (m === 'lag:reset') h.reset();
  if (m === 'lag:read') process.send({ lag: { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6, count: h.count } });
  if (m === 'mem:gc') {
    globalThis.gc();
    const { rss, heapUsed } = process.memoryUsage();
    process.send({ mem: { rss, heapUsed } });
  }
});
process.channel?.unref();`;
const dataDir = mkdtempSync(join(tmpdir(), 'adiuva-bench-chat-'));
const child = spawn(
  process.execPath,
  ['--expose-gc', '--import', `data:text/javascript,${encodeURIComponent(probe)}`, 'dist/src/main.js'],
  {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      DEFAULT_TIER: 'team',
      // Per-tier request limits would turn the load into 429s; the stream cap per user still applies.
      RATE_LIMIT_ENABLED: 'false',
      AUTH_RATE_LIMIT_PER_IP: '100000',
      OPENAI_API_KEY: API_KEY,
      OPENAI_BASE_URL: fakeBase,
      LLM_TIMEOUT_MS: '300000',
      ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  },
);
let logs = '';
const keepLog = (d) => (logs = (logs + d.toString()).slice(-20_000));
child.stdout.on('data', keepLog);
child.stderr.on('data', keepLog);
const exited = new Promise((resolve) => child.once('exit', resolve));
const origin = `http://127.0.0.1:${port}`;
const base = `${origin}/api/v1`;
const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]);
/** Server CPU time (user + system) in ms; /proc counts in USER_HZ, 100 on Linux. */
const cpuMs = () => {
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};
const ask = (message, key) => {
  const reply = new Promise((resolve) => {
    const on = (m) => {
      if (!m?.[key]) return;
      child.off('message', on);
      resolve(m[key]);
    };
    child.on('message', on);
  });
  child.send(message);
  return reply;
};
/** The server's event-loop delay since the last reset, less the sampling interval; then resets. */
const appLag = async () => {
  const lag = await ask('lag:read', 'lag');
  child.send('lag:reset');
  const less = (x) => Math.max(0, x - LAG_RESOLUTION_MS);
  return { p50: less(lag.p50), p99: less(lag.p99), max: less(lag.max) };
};
/** The server's memory right after a full garbage collection, in kB. */
const gcMemKb = async () => {
  const { rss, heapUsed } = await ask('mem:gc', 'mem');
  return { rss: rss / 1024, heap: heapUsed / 1024 };
};

async function register(email) {
  const res = await fetch(`${base}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'benchmark password' }),
  });
  if (res.status !== 201) throw new Error(`register answered ${res.status}: ${await res.text()}`);
  return (await res.json()).access_token;
}

/** A Socket.IO client on /chat whose chunk/done/error events go to the stream named by request_id. */
function connect(token) {
  return new Promise((resolve, reject) => {
    const socket = io(`${origin}/chat`, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    socket.streams = new Map();
    socket.on('chunk', (m) => socket.streams.get(m.request_id)?.chunk(m, performance.now()));
    socket.on('done', (m) => socket.streams.get(m.request_id)?.end({ done: m }));
    socket.on('error', (m) => socket.streams.get(m.request_id)?.end({ error: m }));
    socket.on('disconnect', (reason) => {
      for (const s of socket.streams.values()) s.end({ error: { code: 'disconnected', message: reason } });
    });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** One chat over Socket.IO: { t0, chunks: [{ seq, text, at }], done | error }. */
function socketChat(socket, id) {
  return new Promise((resolve) => {
    const result = { t0: performance.now(), chunks: [] };
    socket.streams.set(id, {
      chunk: (m, at) => result.chunks.push({ seq: m.seq, text: m.text, at }),
      end: (outcome) => {
        socket.streams.delete(id);
        resolve({ ...result, ...outcome });
      },
    });
    socket.emit('chat', { request_id: id, message: `bench:${id}` });
  });
}

/** Server-Sent Events of a fetch() response body, each with its arrival time. */
async function* sseEvents(res) {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const piece of res.body) {
    const at = performance.now();
    buffer += decoder.decode(piece, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.startsWith(':')) continue;
      yield {
        event: /^event: (.*)$/m.exec(block)?.[1] ?? 'message',
        data: /^data: (.*)$/m.exec(block)?.[1],
        at,
      };
    }
  }
}

/** One chat over SSE: { t0, chunks, done | error }. */
async function sseChat(token, id) {
  const result = { t0: performance.now(), chunks: [] };
  const res = await fetch(`${base}/chat/stream`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ message: `bench:${id}` }),
  });
  if (res.status !== 200) return { ...result, error: { code: res.status, message: await res.text() } };
  for await (const e of sseEvents(res)) {
    const data = JSON.parse(e.data);
    if (e.event === 'chunk') result.chunks.push({ seq: data.seq, text: data.text, at: e.at });
    else if (e.event === 'done') result.done = data;
    else if (e.event === 'error') result.error = data;
  }
  return result;
}

/** The agent's streaming request straight to the fake: { t0, arrivals[k] }. */
async function directChat(id) {
  const t0 = performance.now();
  const res = await fetch(`${fakeBase}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'gpt-4o',
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'You are the task agent.' },
        { role: 'user', content: `bench:${id}` },
      ],
      tools: [{ type: 'function', function: { name: 'create_task', parameters: { type: 'object' } } }],
    }),
  });
  const arrivals = [];
  for await (const e of sseEvents(res)) {
    if (e.data === '[DONE]') break;
    const text = JSON.parse(e.data).choices[0]?.delta?.content;
    const k = text ? /w(\d+)$/.exec(text)?.[1] : undefined;
    if (k !== undefined) arrivals[Number(k)] = e.at;
  }
  return { t0, arrivals };
}

/** Problems with one of our streams: lost, repeated or reordered chunks, or text other than sent. */
function problemsOf(result, id) {
  if (result.error) return [`error ${result.error.code}: ${result.error.message}`];
  if (!result.done) return ['no done'];
  const problems = [];
  if (result.chunks.some((c, i) => c.seq !== i)) problems.push('seq not 0, 1, 2…');
  const said = result.chunks.map((c) => c.text).join('');
  if (said !== result.done.response) problems.push('chunks joined != done.response');
  if (result.done.response !== seen.get(id)?.text) problems.push('done.response != what the fake sent');
  if (result.done.agent !== 'task_agent') problems.push(`agent ${result.done.agent}`);
  return problems;
}

const stats = {
  direct: { ttft: [], perChunk: [] },
  sse: { ttftAdded: [], ttftAddedHeld: [], perChunk: [], perToken: [], held: [], heldMs: [], breakdown: [] },
  socket: {
    ttftAdded: [],
    ttftAddedHeld: [],
    perChunk: [],
    perToken: [],
    held: [],
    heldMs: [],
    breakdown: [],
  },
};
/** @type {{ sse: string[], socket: string[] }} */
const failures = { sse: [], socket: [] };
const expected = releases(Array.from({ length: TOKENS }, (_, k) => tokenText('p', k)));

/** Figures of one of our streams, against the direct client of the same round. */
function measureOurs(kind, id, result, direct) {
  const problems = problemsOf(result, id);
  if (result.chunks.length !== expected.length || result.chunks.some((c, i) => c.text !== expected[i].text)) {
    problems.push('chunks differ from the sanitizer run over the same tokens');
  }
  if (problems.length) return void failures[kind].push(`${id}: ${problems.join('; ')}`);
  const r = seen.get(id);
  const s = stats[kind];
  const released = (i) => (expected[i].trigger < TOKENS ? r.writes[expected[i].trigger] : r.endAt);
  result.chunks.forEach((c, i) => {
    s.perChunk.push(c.at - released(i));
    for (const m of c.text.matchAll(/w(\d+)/g)) {
      const k = Number(m[1]);
      s.perToken.push(c.at - r.writes[k]);
      s.held.push(expected[i].trigger - k);
      s.heldMs.push(released(i) - r.writes[k]);
    }
  });
  const first = result.chunks.findIndex((c) => /\S/.test(c.text));
  const ttft = result.chunks[first].at - result.t0;
  const hold = released(first) - r.writes[0];
  const directTtft = direct.arrivals[0] - direct.t0;
  s.ttftAddedHeld.push(ttft - r.routerMs - directTtft);
  s.ttftAdded.push(ttft - r.routerMs - hold - directTtft);
  s.breakdown.push({
    toRouter: r.routerArrived - result.t0,
    router: r.routerMs,
    routerToAgent: r.agentArrived - r.routerEnd,
    agentToToken: r.writes[0] - r.agentArrived,
    releaseToClient: result.chunks[first].at - released(first),
  });
}

const sockets = [];
const report = [];
try {
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${logs}`);
    try {
      if ((await fetch(`${base}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error(`server did not start: ${logs}`);
    await sleep(200);
  }
  const rssIdle = rssKb();

  // ---------------------------------------------------------------- part 1: one stream at a time
  const token = await register(`bench-chat-${Date.now()}@example.com`);
  const me = await fetch(`${base}/auth/me`, { headers: { authorization: `Bearer ${token}` } }).then((r) =>
    r.json(),
  );
  if (me.tier !== 'team') throw new Error(`DEFAULT_TIER=team not applied: the user is on ${me.tier}`);
  const socket = await connect(token);
  sockets.push(socket);
  const kinds = ['direct', 'sse', 'socket'];
  for (let round = 0; round < WARMUP + N; round++) {
    const results = {};
    for (let j = 0; j < kinds.length; j++) {
      const kind = kinds[(round + j) % kinds.length];
      const id = `p${round}${kind}`;
      results[kind] = {
        id,
        result:
          kind === 'direct'
            ? await directChat(id)
            : kind === 'sse'
              ? await sseChat(token, id)
              : await socketChat(socket, id),
      };
    }
    if (round < WARMUP) continue;
    const direct = results.direct.result;
    const r = seen.get(results.direct.id);
    stats.direct.ttft.push(direct.arrivals[0] - direct.t0);
    for (let k = 0; k < TOKENS; k++) stats.direct.perChunk.push(direct.arrivals[k] - r.writes[k]);
    measureOurs('sse', results.sse.id, results.sse.result, direct);
    measureOurs('socket', results.socket.id, results.socket.result, direct);
  }

  // ---------------------------------------------------------------- part 2: concurrent Socket.IO streams
  const users = Math.ceil(STREAMS / PER_USER);
  const tokens = [];
  const stamp = Date.now();
  for (let u = 0; u < users; u += 4) {
    const batch = Array.from({ length: Math.min(4, users - u) }, (_, j) =>
      register(`bench-chat-${stamp}-${u + j}@example.com`),
    );
    tokens.push(...(await Promise.all(batch)));
  }
  const userSockets = [];
  for (let u = 0; u < users; u += 25) {
    const batch = tokens
      .slice(u, u + 25)
      .map((t) => Promise.all(Array.from({ length: SOCKETS_PER_USER }, () => connect(t))));
    for (const group of await Promise.all(batch)) {
      sockets.push(...group);
      userSockets.push(group);
    }
  }
  await sleep(1000);
  const rssBefore = rssKb();
  const gcBefore = await gcMemKb();

  let arrived = 0;
  let failedEarly = 0;
  let lastProgress = performance.now();
  let release;
  const released = new Promise((resolve) => (release = resolve));
  barrier = {
    arrive: () => {
      arrived++;
      lastProgress = performance.now();
      return released;
    },
  };
  const parentLag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  child.send('lag:reset');
  parentLag.enable();
  const started = performance.now();
  let firstDone = Infinity;
  const outcomes = [];
  // Started RAMP at a time, the next batch once the last one's agent calls arrived: each chat event
  // reads the session and tier from the database again, and the embedded one has a single connection.
  for (let j = 0; j < STREAMS; j++) {
    const id = `c${j}`;
    const group = userSockets[Math.floor(j / PER_USER)];
    void socketChat(group[(j % PER_USER) % group.length], id).then((result) => {
      outcomes.push({ id, result });
      if (result.done) firstDone = Math.min(firstDone, performance.now());
      else if (seen.get(id)?.agentArrived === undefined) {
        failedEarly++;
        lastProgress = performance.now();
      }
    });
    if ((j + 1) % RAMP === 0 || j + 1 === STREAMS) {
      lastProgress = performance.now();
      while (arrived + failedEarly < j + 1 && performance.now() - lastProgress < 15_000) await sleep(20);
    }
  }
  const opened = performance.now();
  const setupLag = await appLag();
  await sleep(200);
  const rssOpen = rssKb();
  const gcOpen = await gcMemKb();
  const openStreams = arrived;
  const cpuStart = cpuMs();
  child.send('lag:reset');
  parentLag.reset();
  release();
  const releasedAt = performance.now();
  let rssPeak = rssOpen;
  const deadline = releasedAt + 300_000;
  while (outcomes.length < STREAMS && performance.now() < deadline) {
    if (performance.now() < firstDone) rssPeak = Math.max(rssPeak, rssKb());
    await sleep(50);
  }
  const allDone = performance.now();
  const cpuStreaming = cpuMs() - cpuStart;
  parentLag.disable();
  const lag = await appLag();
  barrier = undefined;

  const concurrent = { ok: 0, failures: [], perChunk: [], chunks: 0 };
  for (const { id, result } of outcomes) {
    const problems = problemsOf(result, id);
    const r = seen.get(id);
    const plan = releases(Array.from({ length: STREAM_TOKENS }, (_, k) => tokenText(id, k)));
    concurrent.chunks += result.chunks.length;
    if (!problems.length && result.chunks.every((c, i) => c.text === plan[i]?.text)) {
      result.chunks.forEach((c, i) =>
        concurrent.perChunk.push(
          c.at - (plan[i].trigger < STREAM_TOKENS ? r.writes[plan[i].trigger] : r.endAt),
        ),
      );
    }
    if (problems.length) concurrent.failures.push(`${id}: ${problems.join('; ')}`);
    else concurrent.ok++;
  }
  if (outcomes.length < STREAMS) {
    concurrent.failures.push(
      ...Array.from({ length: STREAMS - outcomes.length }, () => 'not ended 300 s after the barrier'),
    );
  }

  // ---------------------------------------------------------------- report
  const [sse, sock, direct] = [stats.sse, stats.socket, stats.direct];
  const pair = (xs) => `${f(p50(xs))} / ${f(p99(xs))}`;
  const goal = (x, max) => `<= ${max} ms p50: ${x <= max ? 'met' : 'NOT met'}`;
  const breakdown = (b) =>
    ['toRouter', 'router', 'routerToAgent', 'agentToToken', 'releaseToClient']
      .map((k) => `${k} ${f(p50(b.map((x) => x[k])))}`)
      .join(', ');
  const perStreamKb = (kb) => (openStreams ? kb / openStreams : NaN);
  console.log(
    `\nPart 1: ${N} rounds (after ${WARMUP} warm-up), each: direct, SSE, Socket.IO one at a time, ` +
      `${TOKENS} tokens ${TOKEN_MS} ms apart; database ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PGlite'}`,
  );
  console.log(`failed streams: SSE ${failures.sse.length}, Socket.IO ${failures.socket.length}`);
  for (const line of [...failures.sse, ...failures.socket].slice(0, 5)) console.log(`  ${line}`);
  console.log(`p50 ms of our TTFT parts, SSE:       ${breakdown(sse.breakdown)}`);
  console.log(`p50 ms of our TTFT parts, Socket.IO: ${breakdown(sock.breakdown)}`);
  console.log(
    `\nPart 2: ${STREAMS} Socket.IO streams (${users} team users x ${PER_USER}, ${SOCKETS_PER_USER} sockets each), ` +
      `${STREAM_TOKENS} tokens ${TOKEN_MS} ms apart, started ${RAMP} at a time`,
  );
  console.log(
    `open at once: ${openStreams} (all agent calls in ${f((opened - started) / 1000)} s); tokens flowed for ` +
      `${f((allDone - releasedAt) / 1000)} s (model alone: ${f((STREAM_TOKENS * TOKEN_MS) / 1000)} s)`,
  );
  console.log(`ok ${concurrent.ok}, failed ${concurrent.failures.length}`);
  const reasons = new Map();
  for (const line of concurrent.failures) {
    const reason = line.replace(/^c\d+: /, '');
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  for (const [reason, count] of reasons) console.log(`  ${count} x ${reason}`);
  console.log(
    `server RSS: idle ${f(rssIdle / 1024, 1)} MB; sockets connected ${f(rssBefore / 1024, 1)} MB ` +
      `(after GC ${f(gcBefore.rss / 1024, 1)}, JS heap ${f(gcBefore.heap / 1024, 1)}); all streams open ` +
      `${f(rssOpen / 1024, 1)} MB (after GC ${f(gcOpen.rss / 1024, 1)}, JS heap ${f(gcOpen.heap / 1024, 1)}); ` +
      `peak while streaming ${f(rssPeak / 1024, 1)} MB`,
  );
  console.log(
    `server CPU while tokens flowed: ${f(cpuStreaming / 1000)} s for ${concurrent.chunks} chunks ` +
      `(${f((cpuStreaming * 1000) / Math.max(1, concurrent.chunks), 0)} us a chunk); server event-loop lag while ` +
      `the ${STREAMS} streams started: p50 ${f(setupLag.p50)}, p99 ${f(setupLag.p99)}, max ${f(setupLag.max)} ms`,
  );
  console.log(
    `load generator (fake + clients, this process) event-loop lag while tokens flowed: p99 ` +
      `${f(Math.max(0, parentLag.percentile(99) / 1e6 - LAG_RESOLUTION_MS))} ms`,
  );
  if (concurrent.failures.length || failures.sse.length || failures.socket.length) {
    console.log(`server log tail:\n${logs.slice(-3000)}`);
  }

  report.push(
    ['figure (ms unless noted)', 'direct', 'SSE', 'Socket.IO', 'goal'],
    ['TTFT p50 / p99 (direct: client)', pair(direct.ttft), '', '', ''],
    [
      'TTFT added p50 / p99, without hold',
      '',
      pair(sse.ttftAdded),
      pair(sock.ttftAdded),
      goal(Math.max(p50(sse.ttftAdded), p50(sock.ttftAdded)), 5),
    ],
    [
      'TTFT added p50 / p99, with hold',
      '',
      pair(sse.ttftAddedHeld),
      pair(sock.ttftAddedHeld),
      'hold by design',
    ],
    ['per-chunk latency p50 / p99', pair(direct.perChunk), pair(sse.perChunk), pair(sock.perChunk), ''],
    [
      'per-chunk added p50 / p99',
      '',
      `${f(p50(sse.perChunk) - p50(direct.perChunk))} / ${f(p99(sse.perChunk) - p99(direct.perChunk))}`,
      `${f(p50(sock.perChunk) - p50(direct.perChunk))} / ${f(p99(sock.perChunk) - p99(direct.perChunk))}`,
      goal(Math.max(p50(sse.perChunk), p50(sock.perChunk)) - p50(direct.perChunk), 1),
    ],
    [
      'per-token latency with hold p50 / p99',
      pair(direct.perChunk),
      pair(sse.perToken),
      pair(sock.perToken),
      '',
    ],
    [
      'tokens held p50 / max (count)',
      '0 / 0',
      `${p50(sse.held)} / ${Math.max(...sse.held)}`,
      `${p50(sock.held)} / ${Math.max(...sock.held)}`,
      '',
    ],
    ['time held p50 / p99', '0 / 0', pair(sse.heldMs), pair(sock.heldMs), ''],
    [
      `${STREAMS} streams: ok / failed (count)`,
      '',
      '',
      `${concurrent.ok} / ${concurrent.failures.length}`,
      '0 failed',
    ],
    ['  per-chunk latency p50 / p99', '', '', pair(concurrent.perChunk), ''],
    [
      '  server RSS per open stream, kB: open / open after GC / peak',
      '',
      '',
      [rssOpen - rssBefore, gcOpen.rss - gcBefore.rss, rssPeak - rssBefore]
        .map((kb) => f(perStreamKb(kb), 1))
        .join(' / '),
      '',
    ],
    [
      '  server JS heap per open stream after GC, kB',
      '',
      '',
      f(perStreamKb(gcOpen.heap - gcBefore.heap), 1),
      '',
    ],
    [
      '  server event-loop lag p50 / p99 / max, tokens flowing',
      '',
      '',
      `${f(lag.p50)} / ${f(lag.p99)} / ${f(lag.max)}`,
      '',
    ],
  );
  const widths = report[0].map((_, c) => Math.max(...report.map((row) => row[c].length)));
  console.log('');
  for (const row of report)
    console.log(
      row
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    );
} finally {
  for (const s of sockets) s.close();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
  fake.closeAllConnections();
  await new Promise((resolve) => fake.close(resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
