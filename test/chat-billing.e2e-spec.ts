import { Logger } from '@nestjs/common';
import type { Socket } from 'socket.io-client';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { UsageService } from '../src/modules/usage/usage.service.js';
import { FakeOpenAi, type FakeChatRequest, type ScriptedReply } from './support/fake-openai.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';
import { connectSocket, until } from './support/wait.js';

/** Figures the closing notes quote, through the logger. */
const report = new Logger('ChatBillingSpec');

interface UsageDay {
  requests: number;
  estimated_requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  remaining_usd: number;
}

/** The router's answer: reported figures, so what the agent call adds is told apart. */
const ROUTER: ScriptedReply = { content: 'task_agent', usage: { prompt_tokens: 100, completion_tokens: 1 } };

/**
 * Every model call that reached the provider is billed, whatever ends it: a
 * client gone while the agent call runs, a cancel before the first token, a
 * stream of tool-call deltas cut mid-way, our timeout. Without the provider's
 * figures the prompt is counted with the tokenizer and the completion from
 * what arrived, and the day says how many of its calls are estimates.
 */
describe('chat billing: every model call that reached the provider is billed', () => {
  let fake: FakeOpenAi;
  let t: TestApp;
  const sockets: Socket[] = [];

  const usage = async (u: TestUser): Promise<UsageDay> =>
    (await request(t.url).get('/api/v1/usage').set(u.auth).expect(200)).body as UsageDay;

  /** Polls GET /usage until the day holds `requests` calls (the cut call settles after the client left). */
  async function usageAfter(u: TestUser, requests: number): Promise<UsageDay> {
    // Generous: the first estimate may wait for the tokenizer's tables to load on a busy machine.
    const end = Date.now() + 20_000;
    for (;;) {
      const day = await usage(u);
      if (day.requests >= requests) return day;
      if (Date.now() > end) throw new Error(`GET /usage still shows ${day.requests} of ${requests} calls`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The request for the agent call, once the provider has it. */
  async function agentCall(before: number): Promise<FakeChatRequest> {
    await until(() => fake.chat.length >= before + 2 && fake.chat[before + 1].tools.length > 0, 5000);
    return fake.chat[before + 1];
  }

  /**
   * POST /chat/stream, left (connection dropped) once `leave` says so: 'left', or the error code
   * when the request was refused (a plain HTTP error, or an error event before the client left).
   */
  async function sseLeftWhen(u: TestUser, leave: () => Promise<void>): Promise<string> {
    const abort = new AbortController();
    const res = await fetch(`${t.url}/api/v1/chat/stream`, {
      method: 'POST',
      headers: { ...u.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'add a task' }),
      signal: abort.signal,
    });
    if (res.status !== 200) return ((await res.json()) as { code: string }).code;
    // Read what comes, as a client would, until it leaves (or the stream ends first).
    const reading = (async () => {
      const decoder = new TextDecoder();
      let text = '';
      for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
        text += decoder.decode(piece, { stream: true });
      }
      return text;
    })();
    const first = await Promise.race([leave().then(() => undefined), reading]);
    if (first !== undefined) return /"code":"([a-z_]+)"/.exec(first)?.[1] ?? 'ended';
    abort.abort();
    await reading.catch(() => undefined);
    return 'left';
  }

  /** POST /chat whose client goes away once `leave` says so (or the status, when it answered first). */
  async function chatLeftWhen(u: TestUser, leave: () => Promise<void>): Promise<number | 'left'> {
    const abort = new AbortController();
    const answered = fetch(`${t.url}/api/v1/chat`, {
      method: 'POST',
      headers: { ...u.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'add a task' }),
      signal: abort.signal,
    }).then(
      (res) => res.status,
      () => 'left' as const,
    );
    const left = leave().then(() => 'left' as const);
    const first = await Promise.race([answered, left]);
    if (first !== 'left') return first;
    abort.abort();
    return answered;
  }

  beforeAll(async () => {
    fake = await new FakeOpenAi().start();
    t = await startTestApp({
      env: {
        ...fake.env,
        LLM_MAX_RETRIES: '0',
        LLM_MAX_OUTPUT_TOKENS: '100',
        // Our limit for one model call: the timed-out call below hangs until it.
        LLM_TIMEOUT_MS: '1500',
        // free: 2 ¢ a day, which a handful of cut agent calls spend; pro and power keep room.
        LLM_DAILY_BUDGET_USD: 'free=0.02,pro=5,power=10',
        RATE_LIMIT_ENABLED: 'false',
        // A stream its client left is cut at once (no grace period for a resume): the cut is the subject.
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

  it('bills a POST /chat whose client went away while the agent call ran', async () => {
    const u = await newUser(t, { tier: 'pro' });
    fake.reply(ROUTER, { hang: true });
    let agent: FakeChatRequest | undefined;
    const outcome = await chatLeftWhen(u, async () => {
      agent = await agentCall(0);
    });
    expect(outcome).toBe('left');
    // The server gave up the agent call with its client.
    await until(() => agent!.aborted, 5000);
    const day = await usageAfter(u, 2);
    expect(day).toMatchObject({ requests: 2, estimated_requests: 1, completion_tokens: 1 });
    // The agent's system prompt and tools, counted with the tokenizer, on top of the router's 100.
    expect(day.prompt_tokens).toBeGreaterThan(100 + 300);
    // gpt-4o-mini for the router (ceil(100 × 0.15 + 0.6) = 16 micro-USD), gpt-4o for the agent's prompt.
    expect(day.cost_usd).toBeGreaterThan(0.000016 + 300 * 2.5e-6);
    const ledger = await t.app
      .get(DataSource)
      .query<Array<{ model: string; estimated: boolean; completion_tokens: number }>>(
        `SELECT model, estimated, completion_tokens FROM usage_calls WHERE user_id = $1 ORDER BY created_at, id`,
        [u.id],
      );
    expect(ledger).toEqual([
      { model: 'gpt-4o-mini', estimated: false, completion_tokens: 1 },
      { model: 'gpt-4o', estimated: true, completion_tokens: 0 },
    ]);
    report.log(`POST /chat left during the agent call: ${day.prompt_tokens} prompt tokens, $${day.cost_usd}`);
  });

  it('bills a stream cancelled before its first token, by SSE disconnect and by Socket.IO cancel', async () => {
    const u = await newUser(t, { tier: 'pro' });
    // SSE: the client drops the connection while the agent call waits for its first token.
    fake.reply(ROUTER, { hang: true });
    let agent: FakeChatRequest | undefined;
    expect(
      await sseLeftWhen(u, async () => {
        agent = await agentCall(0);
      }),
    ).toBe('left');
    await until(() => agent!.aborted, 5000);
    expect(agent!.stream).toBe(true);
    const afterSse = await usageAfter(u, 2);
    expect(afterSse).toMatchObject({ requests: 2, estimated_requests: 1, completion_tokens: 1 });
    expect(afterSse.prompt_tokens).toBeGreaterThan(100 + 300);

    // Socket.IO: `cancel` from the same connection, before any chunk.
    fake.reply(ROUTER, { hang: true });
    const s = await connectSocket(`${t.url}/chat`, u.tokens.access_token, sockets);
    const ended = new Promise<unknown>((resolve) => {
      s.on('error', (e: { request_id?: string }) => e.request_id === 'cut-1' && resolve(e));
      s.on('done', (e: { request_id?: string }) => e.request_id === 'cut-1' && resolve(e));
    });
    const chunks: unknown[] = [];
    s.on('chunk', (c: unknown) => chunks.push(c));
    s.emit('chat', { request_id: 'cut-1', message: 'add a task' });
    const second = await agentCall(2);
    s.emit('cancel', { request_id: 'cut-1' });
    expect(await ended).toMatchObject({ request_id: 'cut-1', code: 'cancelled' });
    await until(() => second.aborted, 5000);
    expect(chunks).toEqual([]);
    const afterSocket = await usageAfter(u, 4);
    expect(afterSocket).toMatchObject({ requests: 4, estimated_requests: 2, completion_tokens: 2 });
    expect(afterSocket.prompt_tokens).toBeGreaterThan(afterSse.prompt_tokens + 100 + 300);
    expect(afterSocket.cost_usd).toBeGreaterThan(afterSse.cost_usd);
  });

  it('bills a stream that produced only tool-call deltas, cut mid-way, with the arguments received', async () => {
    const u = await newUser(t, { tier: 'pro' });
    // A long argument streamed 8 characters a chunk, slowly: no text token ever reaches the client.
    fake.reply(ROUTER, {
      tool_calls: [{ name: 'create_task', arguments: { title: 'Plan the launch '.repeat(40) } }],
      chunkDelayMs: 25,
    });
    let agent: FakeChatRequest | undefined;
    const outcome = await sseLeftWhen(u, async () => {
      agent = await agentCall(0);
      // The role chunk, the call's name, then ten argument deltas (80 characters).
      await until(() => agent!.chunksSent >= 12, 5000);
    });
    expect(outcome).toBe('left');
    await until(() => agent!.aborted, 5000);
    const day = await usageAfter(u, 2);
    expect(day).toMatchObject({ requests: 2, estimated_requests: 1 });
    // The name and the argument pieces received are output the provider bills: beyond the router's 1.
    expect(day.completion_tokens).toBeGreaterThan(1 + 10);
    // And less than the whole call would have been (640 characters of arguments).
    expect(day.completion_tokens).toBeLessThan(1 + 150);
  });

  it('bills an agent call our timeout cut after sending (504), and not one the provider refused (502)', async () => {
    const u = await newUser(t, { tier: 'pro' });
    fake.reply(ROUTER, { hang: true });
    const timedOut = await request(t.url).post('/api/v1/chat').set(u.auth).send({ message: 'add a task' });
    expect(timedOut.status).toBe(504);
    expect(timedOut.body.code).toBe('provider_timeout');
    const day = await usageAfter(u, 2);
    expect(day).toMatchObject({ requests: 2, estimated_requests: 1, completion_tokens: 1 });

    // Refused with an error status: nothing generated, nothing billed (only the router is added).
    fake.reply(ROUTER, { status: 500 });
    await request(t.url).post('/api/v1/chat').set(u.auth).send({ message: 'add a task' }).expect(502);
    const after = await usageAfter(u, 3);
    expect(after).toMatchObject({ requests: 3, estimated_requests: 1, completion_tokens: 2 });
    const [held] = await t.app
      .get(DataSource)
      .query<Array<{ reserved: string }>>(
        `SELECT reserved_micro_usd AS reserved FROM usage_days WHERE user_id = $1`,
        [u.id],
      );
    expect(held.reserved).toBe('0');
  });

  it('counts cut calls against the budget: enough of them and chat answers 402 spend_limit_reached', async () => {
    const u = await newUser(t, { tier: 'free' }); // 0.02 USD = 20,000 micro-USD
    // The agent never answers: every agent call is cut, by each of the three ways in turn.
    fake.fallback = (req) => (req.tools.length ? { hang: true } : ROUTER);
    const cuts = ['POST /chat left', 'SSE left', 'Socket.IO cancel'];
    let refused: string | undefined;
    let cut = 0;
    for (; cut < 40 && refused === undefined; cut++) {
      const before = fake.chat.length;
      const { requests } = await usage(u);
      const agentArrived = async () => void (await agentCall(before));
      const kind = cuts[cut % 3];
      if (kind === 'POST /chat left') {
        const outcome = await chatLeftWhen(u, agentArrived);
        if (outcome !== 'left') refused = String(outcome);
      } else if (kind === 'SSE left') {
        const outcome = await sseLeftWhen(u, agentArrived);
        if (outcome !== 'left') refused = outcome;
      } else {
        const s = await connectSocket(`${t.url}/chat`, u.tokens.access_token, sockets);
        const id = `budget-${cut}`;
        const error = new Promise<{ code: string }>((resolve) =>
          s.on('error', (e: { request_id?: string; code: string }) => e.request_id === id && resolve(e)),
        );
        s.emit('chat', { request_id: id, message: 'add a task' });
        const first = await Promise.race([error, agentArrived().then(() => undefined)]);
        if (first) {
          refused = first.code;
        } else {
          s.emit('cancel', { request_id: id });
          expect((await error).code).toBe('cancelled');
        }
        s.disconnect();
      }
      // A refused request may have made its router call first; a cut one made two calls.
      if (refused === undefined) {
        await until(() => fake.chat[before + 1]?.aborted === true, 5000);
        await usageAfter(u, requests + 2);
      }
    }
    // 402 spend_limit_reached, whichever way the refused round came in.
    expect(['402', 'spend_limit_reached']).toContain(refused);
    // Without billing the cut calls, 40 rounds of router calls (16 micro-USD each) never reach the budget.
    expect(cut).toBeGreaterThan(1);
    expect(cut).toBeLessThan(40);
    const answer = await request(t.url).post('/api/v1/chat').set(u.auth).send({ message: 'add a task' });
    expect(answer.status).toBe(402);
    expect(answer.body.code).toBe('spend_limit_reached');
    const day = await usage(u);
    expect(day.estimated_requests).toBeGreaterThanOrEqual(cut - 1);
    expect(day.remaining_usd).toBeLessThan(0.02);
    // Ledger and day totals agree, and nothing is held once the calls ended.
    expect(await t.app.get(UsageService).verify()).toEqual([]);
    report.log(
      `${cut} rounds of cut agent calls spent the 0.02 USD budget: $${day.cost_usd}, ` +
        `${day.requests} calls (${day.estimated_requests} estimated)`,
    );
  });
});
