// npm run bench:chat-orchestrator — what our code adds to one POST /chat (route + one tool call + answer)
// over the model provider's own time, and what usage metering costs on top of it.
// A local OpenAI-compatible fake answers instantly: the router call with "task_agent", the agent's first
// call with one create_task tool call, its second with the answer, each with a `usage` block (the
// provider's token counts, which the metering records). Each request's added time = client-observed
// latency − the sum of the fake's own handling times (from the arrival of its request to the end of its
// answer) for that request's three model calls.
// Two built servers (node dist/src/main.js) run side by side, each in a child process of its own (two
// Nest apps cannot share one process: Passport's strategies are process-wide, so the second app's would
// authenticate the first app's requests against the second app's database; and a shared heap would
// spread one app's garbage-collection pauses over the other's requests), each on its own fresh embedded
// database (in memory, on a worker thread of this process, reached over loopback TCP with a pool of one
// connection, as before) and its own DATA_DIR, both against the same fake, with
// LLM_DAILY_BUDGET_USD=<tier>=1000 so no call is refused: "on" with default settings (every model call
// reserved in Postgres before it and settled after it) and "off" with USAGE_METERING=false.
// Requests run one at a time, alternating on/off (on, off, on, off…), BENCH_REQUESTS each (default 500)
// after 50 warm-up requests each; GET /agents is measured the same way (no model call: a control, its
// on − off should be ~0). Prints, for the metering-on server, the same lines as before metering (p50/p99
// of the added time and of the total), the same for the off server, and on − off: difference of the p50s
// and of the p99s (bootstrap 95 % intervals over the request pairs) and the median of the per-pair
// differences, per request and per model call (÷ 3); and CPU per chat request: the server process's
// (from /proc, over the whole measured phase) and this process's (client, fake and that server's
// database thread, process.cpuUsage() around each request). Then the ledgers, read through the pg
// driver: rows in usage_calls must be 3 × the chat requests that succeeded (warm-up included) for the
// on server and 0 for the off server, and the on server's day must hold nothing reserved. Any non-200
// answer is counted and printed (and sets a failing exit code).
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryDatabase, registerTeamUserAt, startAppProcess, startDatabase } from './support.mjs';

const N = Number(process.env.BENCH_REQUESTS ?? 500);
const WARMUP = 50;
const MODEL_CALLS = 3;
const BUDGET = 'free=1000,pro=1000,power=1000,team=1000';
const percentile = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

let fakeMs = 0;
let fakeCalls = 0;
const completion = (model, message) => ({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: Math.floor(Date.now() / 1000),
  model,
  choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
});
const fake = createServer((req, res) => {
  const started = performance.now();
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const last = body.messages.at(-1);
    const message = !body.tools?.length
      ? { content: 'task_agent' }
      : last.role === 'tool'
        ? { content: 'I added the task.' }
        : {
            content: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: {
                  name: 'create_task',
                  arguments: '{"title":"Send the invoice","priority":"high"}',
                },
              },
            ],
          };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(completion(body.model, message)));
    fakeMs += performance.now() - started;
    fakeCalls++;
  });
});
await new Promise((resolve) => fake.listen(0, '127.0.0.1', resolve));
const fakeUrl = `http://127.0.0.1:${fake.address().port}/v1/chat/completions`;

/** @type {Array<() => Promise<unknown>>} */
const cleanups = [];
/** One built server in a child process, on its own fresh embedded database and DATA_DIR, with a team user, and its samples. */
async function startVariant(name, title, env) {
  const dataDir = mkdtempSync(join(tmpdir(), `adiuva-bench-chat-${name}-`));
  cleanups.push(() => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })));
  // Always a fresh embedded database of its own, even when DATABASE_URL is set.
  const db = await startDatabase({ fromEnv: false });
  cleanups.push(() => db.stop());
  const server = await startAppProcess(db, {
    DATA_DIR: dataDir,
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: `http://127.0.0.1:${fake.address().port}/v1`,
    LLM_DAILY_BUDGET_USD: BUDGET,
    ...env,
  });
  cleanups.push(() => server.stop());
  const user = await registerTeamUserAt(server.base, db.url, `bench-chat-${name}-${Date.now()}@example.com`);
  return {
    name,
    title,
    db,
    server,
    user,
    /** This process's CPU (µs) during each measured chat request. */
    localCpu: [],
    serverCpuMs: 0,
    added: [],
    totals: [],
    baseline: [],
    /** @type {Map<number | string, number>} */
    statuses: new Map(),
    /** @type {string[]} */
    failures: [],
    chatOk: 0,
  };
}

const toolSpec = { type: 'function', function: { name: 'create_task', parameters: { type: 'object' } } };
const bareCall = (body) =>
  fetch(fakeUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
    body: JSON.stringify(body),
  }).then((r) => r.json());

/** One POST /chat to `v`'s server: { added, total } or undefined (counted as a failure) when not a 200 with one action after 3 model calls. */
async function chat(v) {
  fakeMs = 0;
  fakeCalls = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const res = await fetch(`${v.server.base}/chat`, {
    method: 'POST',
    headers: { ...v.user.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ message: 'Add a task to send the invoice', context: { recent_tasks: [] } }),
  });
  const body = await res.json().catch(() => undefined);
  const total = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  v.statuses.set(res.status, (v.statuses.get(res.status) ?? 0) + 1);
  if (res.status !== 200 || body?.actions?.length !== 1 || fakeCalls !== MODEL_CALLS) {
    if (v.failures.length < 3)
      v.failures.push(`${res.status}, ${fakeCalls} model calls: ${JSON.stringify(body)}`);
    if (res.status === 200) v.statuses.set('200 malformed', (v.statuses.get('200 malformed') ?? 0) + 1);
    return undefined;
  }
  v.chatOk++;
  return { added: total - fakeMs, total, cpuUs: user + system };
}

/** Deterministic PRNG for the bootstrap (mulberry32). */
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 95 % bootstrap interval of percentile(a, p) − percentile(b, p), resampling pairs (a[i], b[i]). */
function bootstrapDiff(a, b, p, rounds = 2000) {
  const random = rng(20_240_601);
  const diffs = [];
  const ra = new Array(a.length);
  const rb = new Array(b.length);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < a.length; i++) {
      const j = Math.floor(random() * a.length);
      ra[i] = a[j];
      rb[i] = b[j];
    }
    diffs.push(percentile(ra, p) - percentile(rb, p));
  }
  return [percentile(diffs, 0.025), percentile(diffs, 0.975)];
}

try {
  const on = await startVariant('on', 'metering on (default settings)', {});
  const off = await startVariant('off', 'metering off (USAGE_METERING=false)', { USAGE_METERING: 'false' });
  const variants = [on, off];

  // The floor for three model calls from this process: bare fetch() to the fake, same answers, no LangChain.
  const bare = [];
  for (let i = 0; i < WARMUP + N; i++) {
    fakeMs = 0;
    const started = performance.now();
    const user = { role: 'user', content: 'Add a task to send the invoice' };
    await bareCall({ model: 'gpt-4o-mini', messages: [user] });
    const first = await bareCall({ model: 'gpt-4o', messages: [user], tools: [toolSpec] });
    const tool = { role: 'tool', tool_call_id: 'call_1', content: '{}' };
    await bareCall({ model: 'gpt-4o', messages: [user, first.choices[0].message, tool], tools: [toolSpec] });
    if (i >= WARMUP) bare.push(performance.now() - started - fakeMs);
  }
  // What any authenticated request costs here (credentials, tier read from the database), no model call.
  for (let i = 0; i < WARMUP + N; i++) {
    for (const v of variants) {
      const started = performance.now();
      const res = await fetch(`${v.server.base}/agents`, { headers: v.user.auth });
      await res.json();
      if (res.status !== 200) throw new Error(`GET /agents (${v.name}) answered ${res.status}`);
      if (i >= WARMUP) v.baseline.push(performance.now() - started);
    }
  }
  // The chat requests, alternating on/off; pairs (on i, off i) kept for the differences.
  const pairs = [];
  for (let i = 0; i < WARMUP + N; i++) {
    if (i === WARMUP) for (const v of variants) v.serverCpuMs = -v.server.cpuMs();
    const [a, b] = [await chat(on), await chat(off)];
    if (i < WARMUP) continue;
    for (const [v, r] of [
      [on, a],
      [off, b],
    ]) {
      if (!r) continue;
      v.added.push(r.added);
      v.totals.push(r.total);
      v.localCpu.push(r.cpuUs);
    }
    if (a && b) pairs.push([a.added, b.added]);
  }
  for (const v of variants) v.serverCpuMs += v.server.cpuMs();

  const f = (x) => x.toFixed(2);
  const pp = (xs) => `p50 ${f(percentile(xs, 0.5))} ms, p99 ${f(percentile(xs, 0.99))} ms`;
  const report = (v) => {
    console.log(
      `POST /chat, ${v.added.length} requests one at a time (route + one tool call + answer, 3 model calls)`,
    );
    console.log(`added by our code: ${pp(v.added)}`);
    console.log(`client latency:    ${pp(v.totals)}`);
    console.log(`for scale, GET /agents (authentication and tier lookup, no model): ${pp(v.baseline)}`);
  };

  console.log(`== A: ${on.title}`);
  report(on);
  console.log(`for scale, three bare fetch() calls to the fake (HTTP client floor): ${pp(bare)}`);
  console.log(`goal: <= 5 ms added at p50 -> ${percentile(on.added, 0.5) <= 5 ? 'met' : 'NOT met'}`);
  console.log(`== B: ${off.title}`);
  report(off);
  console.log(`goal: <= 5 ms added at p50 -> ${percentile(off.added, 0.5) <= 5 ? 'met' : 'NOT met'}`);

  console.log(`== metering cost, on − off (${pairs.length} interleaved request pairs)`);
  const pa = pairs.map(([a]) => a);
  const pb = pairs.map(([, b]) => b);
  const line = (label, d, ci) =>
    console.log(
      `${label}: ${f(d)} ms per request [95 % CI ${f(ci[0])} .. ${f(ci[1])}], ` +
        `${f(d / MODEL_CALLS)} ms per model call [${f(ci[0] / MODEL_CALLS)} .. ${f(ci[1] / MODEL_CALLS)}]`,
    );
  line('p50 added, on − off', percentile(pa, 0.5) - percentile(pb, 0.5), bootstrapDiff(pa, pb, 0.5));
  line('p99 added, on − off', percentile(pa, 0.99) - percentile(pb, 0.99), bootstrapDiff(pa, pb, 0.99));
  const d = pairs.map(([a, b]) => a - b);
  const medianD = percentile(d, 0.5);
  console.log(
    `median of the per-pair differences: ${f(medianD)} ms per request, ${f(medianD / MODEL_CALLS)} ms per model call`,
  );
  console.log(
    `control, GET /agents p50 on − off (no model call, metering not involved): ` +
      `${f(percentile(on.baseline, 0.5) - percentile(off.baseline, 0.5))} ms`,
  );
  const mean = (xs) => xs.reduce((t, x) => t + x, 0) / xs.length;
  const serverCpu = (v) => v.serverCpuMs / v.added.length;
  const localCpu = (v) => mean(v.localCpu) / 1000;
  for (const v of variants) {
    console.log(
      `CPU per chat request, ${v.name}: server process ${f(serverCpu(v))} ms; this process (client, fake, ` +
        `its database thread) mean ${f(localCpu(v))} ms, p50 ${f(percentile(v.localCpu, 0.5) / 1000)} ms`,
    );
  }
  const cpuDiff = serverCpu(on) - serverCpu(off) + (localCpu(on) - localCpu(off));
  console.log(
    `CPU on − off: server ${f(serverCpu(on) - serverCpu(off))} ms + database side ${f(localCpu(on) - localCpu(off))} ms ` +
      `= ${f(cpuDiff)} ms per request, ${f(cpuDiff / MODEL_CALLS)} ms per model call`,
  );

  console.log('== requests and ledgers');
  let failed = false;
  for (const v of variants) {
    const statuses = [...v.statuses].map(([s, n]) => `${s}: ${n}`).join(', ');
    const non200 = [...v.statuses].filter(([s]) => s !== 200).reduce((n, [, c]) => n + c, 0);
    console.log(
      `${v.name}: POST /chat answers (warm-up included) ${statuses}; non-200 or malformed: ${non200}`,
    );
    for (const failure of v.failures) console.log(`  e.g. ${failure}`);
    if (non200) failed = true;
    const [{ rows }] = await queryDatabase(v.db.url, `SELECT count(*)::int AS rows FROM usage_calls`);
    const [days] = await queryDatabase(
      v.db.url,
      `SELECT coalesce(sum(requests), 0)::int AS requests, coalesce(sum(reserved_micro_usd), 0)::bigint AS reserved,
              coalesce(sum(cost_micro_usd), 0)::bigint AS cost FROM usage_days`,
    );
    const expected = v === on ? MODEL_CALLS * v.chatOk : 0;
    const ok = rows === expected && days.requests === expected && Number(days.reserved) === 0;
    if (!ok) failed = true;
    console.log(
      `${v.name}: usage_calls rows ${rows} (expected ${expected}${v === on ? ` = ${MODEL_CALLS} × ${v.chatOk} chat requests` : ''}), ` +
        `usage_days requests ${days.requests}, still reserved ${days.reserved} micro-USD, ` +
        `cost ${(Number(days.cost) / 1e6).toFixed(6)} USD -> ${ok ? 'ok' : 'MISMATCH'}`,
    );
    if (!ok || non200) console.log(`  ${v.name} server log tail:\n${v.server.logs().slice(-2000)}`);
  }
  if (failed) process.exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await new Promise((resolve) => fake.close(resolve));
}
