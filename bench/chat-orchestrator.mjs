// npm run bench:chat-orchestrator — what our code adds to one POST /chat (route + one tool call + answer)
// over the model provider's own time. A local OpenAI-compatible fake answers instantly: the router call
// with "task_agent", the agent's first call with one create_task tool call, its second with the answer.
// Each request's added time = client-observed latency − the sum of the fake's own handling times (from
// the arrival of its request to the end of its answer) for that request's three model calls. Requests run
// one at a time (BENCH_REQUESTS, default 500, after 50 warm-up requests); prints p50/p99 of the added
// time and of the total. Everything runs in this process: built app, fake and client.
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerTeamUser, startApp, startDatabase } from './support.mjs';

const N = Number(process.env.BENCH_REQUESTS ?? 500);
const WARMUP = 50;
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

const dataDir = mkdtempSync(join(tmpdir(), 'adiuva-bench-chat-'));
const db = await startDatabase();
const server = await startApp(db, {
  DATA_DIR: dataDir,
  OPENAI_API_KEY: 'sk-bench',
  OPENAI_BASE_URL: `http://127.0.0.1:${fake.address().port}/v1`,
});
const user = await registerTeamUser(server, `bench-chat-${Date.now()}@example.com`);

const added = [];
const totals = [];
const baseline = [];
const bare = [];
const fakeUrl = `http://127.0.0.1:${fake.address().port}/v1/chat/completions`;
const toolSpec = { type: 'function', function: { name: 'create_task', parameters: { type: 'object' } } };
const bareCall = (body) =>
  fetch(fakeUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
    body: JSON.stringify(body),
  }).then((r) => r.json());
try {
  // The floor for three model calls from this process: bare fetch() to the fake, same answers, no LangChain.
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
    const started = performance.now();
    const res = await fetch(`${server.base}/agents`, { headers: user.auth });
    await res.json();
    if (i >= WARMUP) baseline.push(performance.now() - started);
  }
  for (let i = 0; i < WARMUP + N; i++) {
    fakeMs = 0;
    fakeCalls = 0;
    const started = performance.now();
    const res = await fetch(`${server.base}/chat`, {
      method: 'POST',
      headers: { ...user.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'Add a task to send the invoice', context: { recent_tasks: [] } }),
    });
    const body = await res.json();
    const total = performance.now() - started;
    if (res.status !== 200 || body.actions.length !== 1 || fakeCalls !== 3) {
      throw new Error(
        `POST /chat answered ${res.status} with ${fakeCalls} model calls: ${JSON.stringify(body)}`,
      );
    }
    if (i >= WARMUP) {
      added.push(total - fakeMs);
      totals.push(total);
    }
  }
  const f = (x) => x.toFixed(2);
  console.log(`POST /chat, ${N} requests one at a time (route + one tool call + answer, 3 model calls)`);
  console.log(`added by our code: p50 ${f(percentile(added, 0.5))} ms, p99 ${f(percentile(added, 0.99))} ms`);
  console.log(
    `client latency:    p50 ${f(percentile(totals, 0.5))} ms, p99 ${f(percentile(totals, 0.99))} ms`,
  );
  console.log(
    `for scale, GET /agents (authentication and tier lookup, no model): p50 ${f(percentile(baseline, 0.5))} ms, ` +
      `p99 ${f(percentile(baseline, 0.99))} ms`,
  );
  console.log(
    `for scale, three bare fetch() calls to the fake (HTTP client floor): p50 ${f(percentile(bare, 0.5))} ms, ` +
      `p99 ${f(percentile(bare, 0.99))} ms`,
  );
  console.log(`goal: <= 5 ms added at p50 -> ${percentile(added, 0.5) <= 5 ? 'met' : 'NOT met'}`);
} finally {
  await server.app.close();
  await db.stop();
  await new Promise((resolve) => fake.close(resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
