import { randomBytes, randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import request from 'supertest';
import { FakeOpenAi } from './support/fake-openai.js';
import { freePort } from './support/server-process.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';
import { connectSocket } from './support/wait.js';

const TOKEN = 'metrics-token-' + randomBytes(12).toString('hex');

/** The sum of the samples of `name` whose labels include every pair of `labels` (0 when none). */
function sample(exposition: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) total += Number(match[3]);
  }
  return total;
}

describe('GET /metrics (Prometheus)', () => {
  describe('on the public API, behind METRICS_TOKEN', () => {
    let fake: FakeOpenAi;
    let t: TestApp;
    let pro: TestUser;
    const sockets: Socket[] = [];
    const scrape = async () => {
      const res = await request(t.url).get('/api/v1/metrics').set('Authorization', `Bearer ${TOKEN}`);
      expect(res.status).toBe(200);
      return res.text;
    };

    beforeAll(async () => {
      fake = await new FakeOpenAi().start();
      t = await startTestApp({
        env: {
          ...fake.env,
          METRICS_TOKEN: TOKEN,
          LLM_MAX_RETRIES: '0',
          // A free account cannot afford one call; pro can.
          LLM_DAILY_BUDGET_USD: 'free=0.000001,pro=5',
        },
      });
      pro = await newUser(t, { tier: 'pro' });
    });
    afterAll(async () => {
      sockets.forEach((s) => s.disconnect());
      await t.close();
      await fake.stop();
    });
    beforeEach(() => fake.reset());

    it('answers 401 without the token or with a wrong one, and the exposition with it', async () => {
      const none = await request(t.url).get('/api/v1/metrics');
      expect(none.status).toBe(401);
      expect(none.body.code).toBe('unauthenticated');
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
      const wrong = await request(t.url).get('/api/v1/metrics').set('Authorization', `Bearer ${TOKEN}x`);
      expect(wrong.status).toBe(401);
      // An account's own access token is not the metrics token.
      const account = await request(t.url).get('/api/v1/metrics').set(pro.auth);
      expect(account.status).toBe(401);
      const ok = await request(t.url).get('/api/v1/metrics').set('Authorization', `Bearer ${TOKEN}`);
      expect(ok.status).toBe(200);
      expect(ok.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(ok.text).toContain('# TYPE adiuva_http_requests_total counter');
      expect(ok.text).toMatch(/^nodejs_eventloop_lag_seconds /m);
      expect(ok.text).toMatch(/^nodejs_heap_size_used_bytes /m);
      expect(ok.text).toContain('nodejs_gc_duration_seconds');
    });

    it('counts requests by route template, method and status class, and times them', async () => {
      const before = await scrape();
      const labels = { method: 'GET', route: '/api/v1/health', status_class: '2xx' };
      for (let i = 0; i < 3; i++) await request(t.url).get('/api/v1/health').expect(200);
      await request(t.url).get(`/api/v1/no-such-route/${randomUUID()}`).expect(404);
      await request(t.url).get(`/api/v1/plans/playbook/${randomUUID()}`).set(pro.auth).expect(404);
      const after = await scrape();
      const delta = (name: string, l: Record<string, string>) =>
        sample(after, name, l) - sample(before, name, l);
      expect(delta('adiuva_http_requests_total', labels)).toBe(3);
      expect(delta('adiuva_http_request_duration_seconds_count', labels)).toBe(3);
      expect(delta('adiuva_http_requests_total', { route: 'unmatched', status_class: '4xx' })).toBe(1);
      expect(
        delta('adiuva_http_requests_total', { route: '/api/v1/plans/playbook/:id', status_class: '4xx' }),
      ).toBe(1);
      expect(after).toMatch(/^adiuva_http_requests_in_flight 1$/m); // the scrape itself
    });

    it('counts model calls, tokens, spend and redactions as a chat happens', async () => {
      const before = await scrape();
      fake.reply(
        { content: 'task_agent', usage: { prompt_tokens: 100, completion_tokens: 2 } },
        { content: 'Done <think>plan it</think>now.', usage: { prompt_tokens: 1000, completion_tokens: 20 } },
      );
      const res = await request(t.url).post('/api/v1/chat').set(pro.auth).send({ message: 'add a task' });
      expect(res.status).toBe(200);
      const after = await scrape();
      const delta = (name: string, l: Record<string, string> = {}) =>
        sample(after, name, l) - sample(before, name, l);
      expect(delta('adiuva_llm_calls_total', { model: 'gpt-4o-mini', kind: 'chat', outcome: 'ok' })).toBe(1);
      expect(delta('adiuva_llm_calls_total', { model: 'gpt-4o', kind: 'chat', outcome: 'ok' })).toBe(1);
      expect(delta('adiuva_llm_call_duration_seconds_count', { model: 'gpt-4o' })).toBe(1);
      expect(delta('adiuva_llm_tokens_total', { model: 'gpt-4o', direction: 'in' })).toBe(1000);
      expect(delta('adiuva_llm_tokens_total', { model: 'gpt-4o', direction: 'out' })).toBe(20);
      // 1000 × 2.50 + 20 × 10.00 USD per million tokens = 2,700 micro-USD; the router call 257.
      expect(delta('adiuva_llm_cost_micro_usd_total', { model: 'gpt-4o', kind: 'chat' })).toBe(2700);
      expect(delta('adiuva_llm_cost_micro_usd_total', { model: 'gpt-4o-mini' })).toBe(17);
      expect(delta('adiuva_sanitizer_redactions_total', { kind: 'reasoning' })).toBe(1);
    });

    it('times the first token of a streamed call and counts the stream while it runs', async () => {
      const before = await scrape();
      fake.reply({ content: 'task_agent' }, { content: 'One two three four.', chunkDelayMs: 150 });
      const stream = fetch(`${t.url}/api/v1/chat/stream`, {
        method: 'POST',
        headers: { ...pro.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'stream it' }),
      }).then((res) => res.text());
      let running = 0;
      for (let i = 0; i < 40 && running === 0; i++) {
        running = sample(await scrape(), 'adiuva_chat_streams_running');
        if (running === 0) await new Promise((r) => setTimeout(r, 25));
      }
      expect(running).toBe(1);
      await stream;
      const after = await scrape();
      expect(sample(after, 'adiuva_chat_streams_running')).toBe(0);
      expect(
        sample(after, 'adiuva_llm_time_to_first_token_seconds_count', { model: 'gpt-4o' }) -
          sample(before, 'adiuva_llm_time_to_first_token_seconds_count', { model: 'gpt-4o' }),
      ).toBe(1);
    });

    it('counts a budget refusal (402) by tier, and rate-limited requests (429) by tier', async () => {
      const before = await scrape();
      const free = await newUser(t);
      fake.fallback = () => ({ content: 'task_agent' });
      const refused = await request(t.url).post('/api/v1/chat').set(free.auth).send({ message: 'hi' });
      expect(refused.status).toBe(402);
      expect(refused.body.code).toBe('spend_limit_reached');
      let status = 0;
      for (let i = 0; i < 30 && status !== 429; i++) {
        status = (await request(t.url).get('/api/v1/auth/me').set(free.auth)).status;
      }
      expect(status).toBe(429);
      const after = await scrape();
      const delta = (name: string, l: Record<string, string>) =>
        sample(after, name, l) - sample(before, name, l);
      expect(delta('adiuva_budget_refusals_total', { tier: 'free' })).toBe(1);
      expect(delta('adiuva_budget_refusals_total', { tier: 'pro' })).toBe(0);
      expect(delta('adiuva_rate_limited_requests_total', { tier: 'free' })).toBe(1);
      // The router's call was the one refused, before it reached the provider.
      expect(delta('adiuva_llm_calls_total', { outcome: 'spend_limit_reached' })).toBe(1);
    });

    it('counts open Socket.IO connections by namespace, and events in and out', async () => {
      const s = await connectSocket(`${t.url}/chat`, pro.tokens.access_token, sockets);
      const text = await scrape();
      expect(
        sample(text, 'adiuva_socket_connections_open', { transport: 'socket.io', namespace: '/chat' }),
      ).toBe(1);
      const error = new Promise((resolve) => s.once('error', resolve));
      s.emit('chat', { request_id: 'bad request id!', message: '' });
      await error;
      const after = await scrape();
      expect(
        sample(after, 'adiuva_socket_events_total', { namespace: '/chat', direction: 'in' }),
      ).toBeGreaterThan(0);
      expect(
        sample(after, 'adiuva_socket_events_total', { namespace: '/chat', direction: 'out' }),
      ).toBeGreaterThan(0);
      s.disconnect();
      let open = 1;
      for (let i = 0; i < 100 && open > 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        open = sample(await scrape(), 'adiuva_socket_connections_open', { namespace: '/chat' });
      }
      expect(open).toBe(0);
    });

    it('reports the database pool and times its statements', async () => {
      const text = await scrape();
      expect(sample(text, 'adiuva_db_pool_total')).toBeGreaterThanOrEqual(1);
      expect(text).toMatch(/^adiuva_db_pool_idle \d+$/m);
      expect(text).toMatch(/^adiuva_db_pool_waiting 0$/m);
      expect(sample(text, 'adiuva_db_query_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(0);
    });

    it('holds no id, email, path or content in any label: a planted canary never shows up', async () => {
      const canary = `cnryobs${randomBytes(6).toString('hex')}`;
      const email = `${canary}@example.com`;
      await request(t.url)
        .post('/api/v1/auth/register')
        .set('X-Request-Id', canary)
        .set('User-Agent', canary)
        .send({ email, password: 'correct horse battery staple' })
        .expect(201);
      const login = await request(t.url)
        .post('/api/v1/auth/login')
        .set('X-Canary', canary)
        .send({ email, password: 'correct horse battery staple' })
        .expect(200);
      const auth = { Authorization: `Bearer ${login.body.access_token as string}` };
      await request(t.url).get(`/api/v1/${canary}/${canary}`).set(auth).expect(404);
      await request(t.url).get(`/api/v1/plans/playbook/${canary}`).set(auth).set('X-Request-Id', canary);
      await request(t.url).get(`/api/v1/health?${canary}=${canary}`).set('X-Canary', canary).expect(200);
      fake.reply({ content: 'task_agent' }, { content: `Echo ${canary}` });
      await request(t.url)
        .post('/api/v1/chat')
        .set(pro.auth)
        .set('X-Request-Id', canary)
        .send({ message: `Please remember ${canary}` })
        .expect(200);
      const text = await scrape();
      expect(text.toLowerCase()).not.toContain(canary);
      expect(text).not.toContain(pro.id);
      expect(text).not.toContain(pro.email);
      // Every label value is one of a bounded vocabulary: templates, methods, classes, tiers, names.
      const values = new Set([...text.matchAll(/="([^"]*)"/g)].map((m) => m[1]));
      for (const value of values) expect(value).toMatch(/^[A-Za-z0-9_./:\-+ ]*$/);
      expect([...values].filter((v) => /[0-9a-f]{8}-[0-9a-f]{4}-/.test(v))).toEqual([]);
    });
  });

  describe('on METRICS_PORT', () => {
    let t: TestApp;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTestApp({ env: { METRICS_PORT: String(port), HOST: '127.0.0.1' } });
    });
    afterAll(() => t.close());

    it('serves /metrics on its own port without a token, and not on the public port', async () => {
      await request(t.url).get('/api/v1/health').expect(200);
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await res.text()).toContain('adiuva_http_requests_total{method="GET",route="/api/v1/health"');
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/health`)).status).toBe(404);
      const publicDoor = await request(t.url).get('/api/v1/metrics');
      expect(publicDoor.status).toBe(404);
      expect(publicDoor.body.code).toBe('not_found');
      const withToken = await request(t.url).get('/api/v1/metrics').set('Authorization', `Bearer ${TOKEN}`);
      expect(withToken.status).toBe(404);
    });
  });

  describe('on METRICS_PORT with METRICS_TOKEN', () => {
    let t: TestApp;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTestApp({
        env: { METRICS_PORT: String(port), METRICS_TOKEN: TOKEN, HOST: '127.0.0.1' },
      });
    });
    afterAll(() => t.close());

    it('asks for the token on the port too, and still serves nothing on the public API', async () => {
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
      const wrong = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { Authorization: `Bearer ${TOKEN.slice(1)}` },
      });
      expect(wrong.status).toBe(401);
      const ok = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      expect(ok.status).toBe(200);
      await request(t.url).get('/api/v1/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(404);
    });
  });

  describe('off (neither variable set)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(() => t.close());

    it('serves no metrics and counts nothing', async () => {
      await request(t.url).get('/api/v1/health').expect(200);
      const res = await request(t.url).get('/api/v1/metrics').set('Authorization', `Bearer ${TOKEN}`);
      expect(res.status).toBe(404);
    });
  });
});
