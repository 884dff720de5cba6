import { Logger } from '@nestjs/common';
import request from 'supertest';
import type { Socket } from 'socket.io-client';
import { DataSource } from 'typeorm';
import { UsageService } from '../src/modules/usage/usage.service.js';
import { FakeOpenAi } from './support/fake-openai.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';
import { connectSocket, until } from './support/wait.js';

/** Figures the closing notes quote, through the logger. */
const report = new Logger('UsageSpec');

interface LedgerRow {
  model: string;
  kind: string;
  prompt_tokens: number;
  completion_tokens: number;
  cost_micro_usd: string;
  estimated: boolean;
}

const today = () => new Date().toISOString().slice(0, 10);
const nextMidnight = () => Date.parse(`${today()}T00:00:00Z`) + 86_400_000;

describe('model usage and daily budgets', () => {
  let fake: FakeOpenAi;
  let t: TestApp;
  const sockets: Socket[] = [];

  const ledger = (user: TestUser) =>
    t.app.get(DataSource).query<LedgerRow[]>(
      `SELECT model, kind, prompt_tokens, completion_tokens, cost_micro_usd, estimated
           FROM usage_calls WHERE user_id = $1 ORDER BY created_at, id`,
      [user.id],
    );
  const chat = (user: TestUser, message = 'add a task') =>
    request(t.url).post('/api/v1/chat').set(user.auth).send({ message });

  beforeAll(async () => {
    fake = await new FakeOpenAi().start();
    t = await startTestApp({
      env: {
        ...fake.env,
        LLM_MAX_RETRIES: '0',
        LLM_MAX_OUTPUT_TOKENS: '100',
        // pro: 5 ¢ a day, so a few calls spend it; power keeps the default.
        LLM_DAILY_BUDGET_USD: 'free=0.01,pro=0.05',
        RATE_LIMIT_ENABLED: 'false',
        // A stream its client left is cut at once (no grace period for a resume): the cut is the subject here.
        CHAT_RESUME_GRACE_MS: '0',
      },
    });
  });
  afterAll(async () => {
    sockets.forEach((s) => s.disconnect());
    await t.close();
    await fake.stop();
  });
  beforeEach(() => fake.reset());

  it('records every call exactly as the provider reported it, priced to the micro-dollar', async () => {
    const u = await newUser(t, { tier: 'power' });
    fake.reply(
      { content: 'task_agent', usage: { prompt_tokens: 101, completion_tokens: 3 } },
      {
        tool_calls: [{ name: 'create_task', arguments: { title: 'Ship it' } }],
        usage: { prompt_tokens: 1234, completion_tokens: 17 },
      },
      { content: 'Done.', usage: { prompt_tokens: 1301, completion_tokens: 5 } },
    );
    await chat(u).expect(200);
    // Router on gpt-4o-mini (0.15 / 0.60 USD per million), agent on gpt-4o (2.50 / 10.00):
    // ceil(101 × 0.15 + 3 × 0.60) = ceil(16.95) = 17; ceil(1234 × 2.5 + 17 × 10) = 3255;
    // ceil(1301 × 2.5 + 5 × 10) = ceil(3302.5) = 3303 micro-USD.
    expect(await ledger(u)).toEqual([
      {
        model: 'gpt-4o-mini',
        kind: 'chat',
        prompt_tokens: 101,
        completion_tokens: 3,
        cost_micro_usd: '17',
        estimated: false,
      },
      {
        model: 'gpt-4o',
        kind: 'chat',
        prompt_tokens: 1234,
        completion_tokens: 17,
        cost_micro_usd: '3255',
        estimated: false,
      },
      {
        model: 'gpt-4o',
        kind: 'chat',
        prompt_tokens: 1301,
        completion_tokens: 5,
        cost_micro_usd: '3303',
        estimated: false,
      },
    ]);
    const usage = await request(t.url).get('/api/v1/usage').set(u.auth).expect(200);
    expect(usage.body).toEqual({
      date: today(),
      requests: 3,
      estimated_requests: 0,
      prompt_tokens: 2636,
      completion_tokens: 25,
      cost_usd: 0.006575,
      budget_usd: 10,
      remaining_usd: 9.993425,
      alert: false,
      resets_at: nextMidnight(),
    });
  });

  it('records streamed calls from the usage the provider sends at the end of the stream', async () => {
    const u = await newUser(t, { tier: 'power' });
    fake.reply(
      { content: 'note_agent', usage: { prompt_tokens: 90, completion_tokens: 2 } },
      { content: 'Here is your note.', usage: { prompt_tokens: 800, completion_tokens: 6 }, chunkDelayMs: 1 },
    );
    const res = await fetch(`${t.url}/api/v1/chat/stream`, {
      method: 'POST',
      headers: { ...u.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'a note' }),
    });
    expect(await res.text()).toContain('event: done');
    expect(fake.chat[1].includeUsage).toBe(true);
    const rows = await ledger(u);
    expect(rows.map((r) => [r.model, r.prompt_tokens, r.completion_tokens, r.estimated])).toEqual([
      ['gpt-4o-mini', 90, 2, false],
      ['gpt-4o', 800, 6, false],
    ]);
    expect(rows[1].cost_micro_usd).toBe(String(Math.ceil(800 * 2.5 + 6 * 10)));
  });

  it('records a stream cut before the usage arrived as estimated, with the real tokenizer', async () => {
    const u = await newUser(t, { tier: 'power' });
    const words = Array.from({ length: 300 }, (_, i) => `word${i}`).join(' ');
    fake.reply({ content: 'task_agent' }, { content: words, chunkDelayMs: 20 });
    const abort = new AbortController();
    const res = await fetch(`${t.url}/api/v1/chat/stream`, {
      method: 'POST',
      headers: { ...u.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'a long answer' }),
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    for (let i = 0; i < 8; i++) await reader.read();
    abort.abort();
    await until(() => fake.chat[1]?.aborted === true, 3000);
    let rows: LedgerRow[] = [];
    // The tokenizer starts with the first count that needs it (a second or more on a loaded machine).
    for (let i = 0; i < 600 && rows.length < 2; i++) {
      rows = await ledger(u);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(rows).toHaveLength(2);
    const cut = rows[1];
    expect(cut).toMatchObject({ model: 'gpt-4o', kind: 'chat', estimated: true });
    expect(cut.prompt_tokens).toBeGreaterThan(100); // the agent's system prompt, tools aside
    // "wordN" is two or three tokens and the client read a few of the 300 before it left.
    expect(cut.completion_tokens).toBeGreaterThan(0);
    expect(cut.completion_tokens).toBeLessThan(900);
  });

  it('answers 402 spend_limit_reached with the reset time once the budget is spent, another user unaffected', async () => {
    const u = await newUser(t, { tier: 'pro' }); // 0.05 USD = 50,000 micro-USD
    const other = await newUser(t, { tier: 'pro' });
    fake.fallback = (req) =>
      req.tools.length
        ? { content: 'Done.', usage: { prompt_tokens: 12_000, completion_tokens: 10 } } // 30,100 micro-USD
        : { content: 'task_agent', usage: { prompt_tokens: 100, completion_tokens: 1 } };
    await chat(u).expect(200); // 30,116 spent
    // Its worst case (prompt estimate + 100 output tokens) fits in what is left; the provider then
    // reports far more prompt tokens than estimated: one call's overshoot, the bound the budget keeps.
    await chat(u).expect(200);
    const calls = fake.chat.length;
    const refused = await chat(u).expect(402);
    expect(refused.body).toMatchObject({
      code: 'spend_limit_reached',
      resets_at: nextMidnight(),
      budget_usd: 0.05,
    });
    expect(refused.body.message).toMatch(
      new RegExp(
        String.raw`^Today's model budget of the pro tier \(\$0\.05\) cannot cover this request: \$0\.00 is left ` +
          String.raw`and this call may cost up to \$0\.\d+; it resets at ` +
          new Date(nextMidnight()).toISOString().replace(/\./g, '\\.') +
          '$',
      ),
    );
    // A stream is refused the same way, before its headers: a plain 402, not an error event.
    const stream = await fetch(`${t.url}/api/v1/chat/stream`, {
      method: 'POST',
      headers: { ...u.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'stream it' }),
    });
    expect(stream.status).toBe(402);
    expect(await stream.json()).toMatchObject({ code: 'spend_limit_reached', resets_at: nextMidnight() });
    const s = await connectSocket(`${t.url}/chat`, u.tokens.access_token, sockets);
    const error = new Promise((resolve) => s.once('error', resolve));
    s.emit('chat', { request_id: 'over', message: 'stream it' });
    expect(await error).toMatchObject({
      request_id: 'over',
      code: 'spend_limit_reached',
      resets_at: nextMidnight(),
    });
    // Refused before the call: the provider saw nothing more.
    expect(fake.chat.length).toBe(calls);
    const usage = await request(t.url).get('/api/v1/usage').set(u.auth).expect(200);
    expect(usage.body).toMatchObject({ alert: true, remaining_usd: 0, budget_usd: 0.05 });
    expect(usage.body.cost_usd).toBeLessThanOrEqual(0.05 + 0.0301);
    await chat(other).expect(200);
  });

  it('stops a turn cleanly mid-way when the budget runs out between tool calls, with what it has', async () => {
    const u = await newUser(t, { tier: 'pro' });
    fake.reply(
      { content: 'task_agent', usage: { prompt_tokens: 100, completion_tokens: 1 } },
      {
        tool_calls: [{ name: 'create_task', arguments: { title: 'First' } }],
        usage: { prompt_tokens: 20_000, completion_tokens: 10 }, // 50,100 micro-USD: the whole budget
      },
      { content: 'never asked' },
    );
    const res = await chat(u).expect(200);
    expect(res.body.response).toMatch(/^I had to stop before finishing: today's model budget is used up/);
    expect(res.body.actions).toMatchObject([
      { type: 'create_record', table: 'tasks', data: { title: 'First' } },
    ]);
    expect(fake.chat).toHaveLength(2);
  });

  it('sends the 80 % alert once, to a connected socket, with one audit entry', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const s = await connectSocket(t.url, u.tokens.access_token, sockets);
    const alerts: unknown[] = [];
    s.on('usage:alert', (a) => alerts.push(a));
    fake.fallback = (req) =>
      req.tools.length
        ? { content: 'Done.', usage: { prompt_tokens: 7_000, completion_tokens: 0 } } // 17,500 micro-USD
        : { content: 'task_agent', usage: { prompt_tokens: 10, completion_tokens: 1 } };
    await chat(u).expect(200); // 35 %
    await chat(u).expect(200); // 70 %
    expect(alerts).toEqual([]);
    await chat(u).expect(200); // 105 %: crosses 80 %
    await until(() => alerts.length === 1);
    expect(alerts[0]).toEqual({ date: today(), spent_usd: expect.any(Number), budget_usd: 0.05 });
    expect((alerts[0] as { spent_usd: number }).spent_usd).toBeGreaterThanOrEqual(0.04);
    await chat(u).expect(402);
    await new Promise((r) => setTimeout(r, 200));
    expect(alerts).toHaveLength(1);
    const audit = await t.app
      .get(DataSource)
      .query<unknown[]>(`SELECT 1 FROM audit_log WHERE event_type = 'usage.alert' AND subject_id = $1`, [
        u.id,
      ]);
    expect(audit).toHaveLength(1);
  });

  it('holds the budget under 50 parallel requests: spend ≤ budget + one worst case, no 5xx, ledger and totals agree', async () => {
    const u = await newUser(t, { tier: 'pro' }); // 50,000 micro-USD
    // Each request: a router call and an agent call of about 4,000 micro-USD, so the budget covers about 12.
    fake.fallback = (req) =>
      req.tools.length
        ? { content: 'Done.', usage: { prompt_tokens: 1_200, completion_tokens: 100 }, delayMs: 20 }
        : { content: 'task_agent', usage: { prompt_tokens: 200, completion_tokens: 2 }, delayMs: 20 };
    const statuses = (await Promise.all(Array.from({ length: 50 }, () => chat(u)))).map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 402)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(3);
    expect(statuses.filter((s) => s === 402).length).toBeGreaterThan(10);
    const spent = (await ledger(u)).reduce((sum, r) => sum + Number(r.cost_micro_usd), 0);
    // One agent call's worst case: its prompt estimate plus 100 output tokens at gpt-4o prices.
    const worstCase = 1_200 * 2.5 + 100 * 10 + 2_000;
    expect(spent).toBeLessThanOrEqual(50_000 + worstCase);
    report.log(
      `50 parallel requests: ${statuses.filter((s) => s === 200).length} answered, ` +
        `${statuses.filter((s) => s === 402).length} refused 402; spent ${spent} of a 50,000 micro-USD budget ` +
        `(overshoot ${Math.max(0, spent - 50_000)}, bound ${worstCase})`,
    );
    const usage = await request(t.url).get('/api/v1/usage').set(u.auth).expect(200);
    expect(Math.round(usage.body.cost_usd * 1e6)).toBe(spent);
    expect(await t.app.get(UsageService).verify()).toEqual([]);
  });

  it('records nothing for a failed call, releases what it held, and the ledger check still agrees', async () => {
    const u = await newUser(t, { tier: 'power' });
    fake.reply(
      { content: 'task_agent', usage: { prompt_tokens: 50, completion_tokens: 1 } },
      { status: 500 },
    );
    await chat(u).expect(502);
    const rows = await ledger(u);
    expect(rows.map((r) => r.model)).toEqual(['gpt-4o-mini']);
    const [day] = await t.app
      .get(DataSource)
      .query<Array<{ reserved: string }>>(
        `SELECT reserved_micro_usd AS reserved FROM usage_days WHERE user_id = $1`,
        [u.id],
      );
    expect(day.reserved).toBe('0');
    expect(await t.app.get(UsageService).verify()).toEqual([]);
  });

  it('serves history per day and per-user totals to admins only', async () => {
    const u = await newUser(t, { tier: 'power' });
    fake.fallback = (req) =>
      req.tools.length
        ? { content: 'Done.', usage: { prompt_tokens: 400, completion_tokens: 4 } }
        : { content: 'task_agent', usage: { prompt_tokens: 40, completion_tokens: 1 } };
    await chat(u).expect(200);
    const history = await request(t.url).get('/api/v1/usage/history?days=7').set(u.auth).expect(200);
    expect(history.body).toHaveLength(7);
    expect(history.body[6]).toMatchObject({ date: today(), requests: 2, prompt_tokens: 440 });
    expect(history.body[0]).toMatchObject({ requests: 0, cost_usd: 0, budget_usd: 10 });
    await request(t.url).get('/api/v1/usage/history?days=91').set(u.auth).expect(400);
    await request(t.url).get('/api/v1/admin/usage').set(u.auth).expect(403);
    const admin = await newUser(t, { role: 'admin' });
    const all = await request(t.url).get(`/api/v1/admin/usage?date=${today()}`).set(admin.auth).expect(200);
    expect(all.body.users).toContainEqual({
      user_id: u.id,
      email: u.email,
      requests: 2,
      prompt_tokens: 440,
      completion_tokens: 5,
      // ceil(40 × 0.15 + 1 × 0.60) + ceil(400 × 2.5 + 4 × 10) = 7 + 1,040 micro-USD
      cost_usd: 0.001047,
    });
    await request(t.url).get('/api/v1/admin/usage?date=2026-13-01').set(admin.auth).expect(400);
    await request(t.url).get('/api/v1/admin/usage?date=2026-02-31').set(admin.auth).expect(400);
  });
});

describe('embeddings are metered too', () => {
  it('records the query_text embedding of a semantic search with the provider’s token count', async () => {
    const fake = await new FakeOpenAi().start();
    const t = await startTestApp({
      embeddedDb: true,
      env: { ...fake.env, VECTOR_DIMENSIONS: '8' },
    });
    try {
      const u = await newUser(t, { tier: 'pro' });
      fake.embeddingTokens = 4_321;
      await request(t.url)
        .post('/api/v1/storage/vectors/search')
        .set(u.auth)
        .send({ query_text: 'what is due', top_k: 3 })
        .expect(200);
      const rows = await t.app
        .get(DataSource)
        .query<LedgerRow[]>(
          `SELECT model, kind, prompt_tokens, completion_tokens, cost_micro_usd, estimated FROM usage_calls WHERE user_id = $1`,
          [u.id],
        );
      // text-embedding-3-small: 0.02 USD per million tokens → ceil(4,321 × 0.02) = 87 micro-USD.
      expect(rows).toEqual([
        {
          model: 'text-embedding-3-small',
          kind: 'embedding',
          prompt_tokens: 4321,
          completion_tokens: 0,
          cost_micro_usd: '87',
          estimated: false,
        },
      ]);
    } finally {
      await t.close();
      await fake.stop();
    }
  });
});
