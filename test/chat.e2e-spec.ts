import request from 'supertest';
import type { ChatUsage } from '../src/common/llm/chat-model.js';
import { ChatModel } from '../src/common/llm/chat-model.js';
import { OrchestratorService } from '../src/modules/agents/orchestrator.service.js';
import { PromptTemplates } from '../src/modules/agents/plans/prompt-templates.js';
import { FakeOpenAi, type FakeChatRequest, type ScriptedReply } from './support/fake-openai.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';
import { until } from './support/wait.js';

const TOOLS = {
  task_agent: [
    'list_tasks',
    'create_task',
    'update_task',
    'delete_task',
    'list_tasks_due_today',
    'list_task_comments',
    'add_task_comment',
    'delete_task_comment',
  ],
  project_agent: [
    'list_projects',
    'list_all_projects',
    'get_project',
    'create_project',
    'update_project',
    'delete_project',
  ],
  checkpoint_agent: ['list_checkpoints', 'create_checkpoint', 'update_checkpoint', 'delete_checkpoint'],
  note_agent: ['list_notes', 'get_note', 'create_note', 'update_note', 'delete_note'],
} as const;
type AgentName = keyof typeof TOOLS;

const DUE = Date.UTC(2030, 0, 4, 12);
const call = (name: string, args: Record<string, unknown> | string, id?: string) => ({
  name,
  arguments: args,
  id,
});
const systemOf = (req: FakeChatRequest) => req.messages.find((m) => m.role === 'system')?.content ?? '';
const toolMessages = (req: FakeChatRequest) => req.messages.filter((m) => m.role === 'tool');

describe('chat and agents (fake OpenAI chat completions)', () => {
  let fake: FakeOpenAi;
  let t: TestApp;
  let free: TestUser;
  let pro: TestUser;
  const chat = (user: TestUser, body: Record<string, unknown>) =>
    request(t.url).post('/api/v1/chat').set(user.auth).send(body);

  beforeAll(async () => {
    fake = await new FakeOpenAi().start();
    t = await startTestApp({
      env: {
        ...fake.env,
        LLM_TIMEOUT_MS: '3000',
        LLM_MAX_RETRIES: '2',
        RATE_LIMIT_ENABLED: 'false',
      },
    });
    free = await newUser(t);
    pro = await newUser(t, { tier: 'pro' });
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });
  beforeEach(() => fake.reset());

  describe('routing', () => {
    it.each(Object.keys(TOOLS) as AgentName[])(
      'routes to %s, which offers exactly its tools to LLM_MODEL',
      async (agent) => {
        fake.reply({ content: agent }, { content: `Handled by ${agent}.` });
        const res = await chat(pro, { message: 'Please help with this' });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ response: `Handled by ${agent}.`, actions: [], agent });
        expect(fake.chat).toHaveLength(2);
        const [router, turn] = fake.chat;
        expect(router.model).toBe('gpt-4o-mini');
        expect(router.tools).toEqual([]);
        expect(router.messages.at(-1)).toMatchObject({ role: 'user', content: 'Please help with this' });
        expect(turn.model).toBe('gpt-4o');
        expect(turn.tools).toEqual(TOOLS[agent]);
        expect(turn.stream).toBe(false);
      },
    );

    it('offers a free user the three free agents only, and falls back from checkpoint_agent', async () => {
      fake.reply({ content: 'checkpoint_agent' }, { content: 'ok' });
      const res = await chat(free, { message: 'Add a milestone' });
      expect(res.status).toBe(200);
      expect(res.body.agent).toBe('task_agent');
      const offered = systemOf(fake.chat[0]);
      for (const name of ['task_agent', 'project_agent', 'note_agent']) expect(offered).toContain(name);
      expect(offered).not.toContain('checkpoint_agent');
      expect(fake.chat[1].tools).toEqual(TOOLS.task_agent);
    });

    it('offers a pro user all four agents', async () => {
      fake.reply({ content: 'note_agent' }, { content: 'ok' });
      await chat(pro, { message: 'x' }).expect(200);
      expect(systemOf(fake.chat[0])).toContain('checkpoint_agent');
    });

    it.each(['I think the calendar agent', 'email_agent', 'task_agent, unknown_agent', ''])(
      'falls back to task_agent when the router answers %j',
      async (answer) => {
        fake.reply({ content: answer }, { content: 'fallback' });
        const res = await chat(pro, { message: 'hm' });
        expect(res.status).toBe(200);
        expect(res.body.agent).toBe('task_agent');
        expect(fake.chat[1].tools).toEqual(TOOLS.task_agent);
      },
    );

    it('forgives quotes, case and a full stop in the router answer', async () => {
      fake.reply({ content: ' "Note_Agent." ' }, { content: 'ok' });
      const res = await chat(pro, { message: 'x' });
      expect(res.body.agent).toBe('note_agent');
    });
  });

  describe('tool loop', () => {
    const context = {
      recent_tasks: [
        { id: 't1', title: 'Write report', status: 'todo', priority: 'low', due_date: DUE },
        { id: 't2', title: 'Ship release', status: 'done', priority: 'high' },
      ],
    };

    it('runs several steps, keeping every call and result in the messages, and returns the actions', async () => {
      fake.reply(
        { content: 'task_agent' },
        { tool_calls: [call('list_tasks', { status: 'todo' }, 'call_a')] },
        {
          tool_calls: [call('update_task', { task_id: 't1', priority: 'high', due_date: -1 }, 'call_b')],
        },
        { content: 'Raised the priority of "Write report".' },
      );
      const res = await chat(free, { message: 'Make my open task urgent', context });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        response: 'Raised the priority of "Write report".',
        actions: [
          {
            type: 'update_record',
            table: 'tasks',
            data: { id: 't1', priority: 'high' },
            agent: 'task_agent',
          },
        ],
        agent: 'task_agent',
      });
      expect(fake.chat).toHaveLength(4);
      const listResult = JSON.parse(toolMessages(fake.chat[2])[0].content!);
      expect(listResult).toMatchObject({ count: 1, items: [{ id: 't1', title: 'Write report' }] });
      const last = fake.chat[3];
      expect(last.messages.filter((m) => m.role === 'assistant').map((m) => m.tool_calls?.[0].id)).toEqual([
        'call_a',
        'call_b',
      ]);
      expect(toolMessages(last).map((m) => m.tool_call_id)).toEqual(['call_a', 'call_b']);
      expect(last.tools).toEqual(TOOLS.task_agent);
    });

    it('stops offering tools after 5 model calls with tools and answers from what it has', async () => {
      fake.reply({ content: 'task_agent' });
      fake.fallback = (req) =>
        req.tools.length > 0
          ? { tool_calls: [call('create_task', { title: `Task ${fake.chat.length}` })] }
          : { content: 'I proposed five tasks.' };
      const res = await chat(free, { message: 'Plan my week in many tasks' });
      expect(res.status).toBe(200);
      expect(res.body.response).toBe('I proposed five tasks.');
      expect(res.body.actions).toHaveLength(5);
      const agentCalls = fake.chat.slice(1);
      expect(agentCalls.map((r) => r.tools.length > 0)).toEqual([true, true, true, true, true, false]);
      expect(toolMessages(agentCalls[5])).toHaveLength(5);
    });

    it('feeds invalid and malformed arguments back to the model as tool errors, never as actions', async () => {
      fake.reply(
        { content: 'task_agent' },
        {
          tool_calls: [
            call('create_task', { title: 'A', priority: 'urgent', due_date: 'tomorrow' }, 'bad_enum'),
            call('create_task', '{"title": "B", ', 'bad_json'),
            call('create_task', { title: 'C', assignees: 'Ada' }, 'bad_assignees'),
            call('make_coffee', {}, 'no_such_tool'),
          ],
        },
        { tool_calls: [call('create_task', { title: 'A', priority: 'high', assignees: '["Ada"]' }, 'good')] },
        { content: 'Done after fixing the arguments.' },
      );
      const res = await chat(free, { message: 'Add task A' });
      expect(res.status).toBe(200);
      expect(res.body.actions).toEqual([
        {
          type: 'create_record',
          table: 'tasks',
          data: { title: 'A', priority: 'high', assignees: '["Ada"]', status: 'todo' },
          agent: 'task_agent',
        },
      ]);
      const errors = toolMessages(fake.chat[2]);
      expect(errors.map((m) => m.tool_call_id)).toEqual([
        'bad_enum',
        'bad_json',
        'bad_assignees',
        'no_such_tool',
      ]);
      expect(errors[0].content).toMatch(/^Error: invalid arguments for create_task/);
      expect(errors[0].content).toMatch(/priority/);
      expect(errors[0].content).toMatch(/due_date/);
      expect(errors[1].content).toMatch(/not valid JSON/);
      expect(errors[2].content).toMatch(/JSON-encoded array/);
      expect(errors[3].content).toMatch(/no tool make_coffee/);
    });

    it('runs the tool calls of one answer together and keeps their actions in call order', async () => {
      fake.reply(
        { content: 'note_agent' },
        {
          tool_calls: [
            call('create_note', { title: 'One', content: '# One' }, 'n1'),
            call('get_note', { note_id: 'n9' }, 'n2'),
            call('delete_note', { note_id: 'n7' }, 'n3'),
            call('update_note', { note_id: 'n9', content: '# Nine, edited' }, 'n4'),
          ],
        },
        { content: 'Four things done.' },
      );
      const res = await chat(free, {
        message: 'Tidy my notes',
        context: { notes: [{ id: 'n9', title: 'Nine', content: '# Nine' }] },
      });
      expect(res.status).toBe(200);
      expect(fake.chat).toHaveLength(3);
      expect(toolMessages(fake.chat[2]).map((m) => m.tool_call_id)).toEqual(['n1', 'n2', 'n3', 'n4']);
      expect(JSON.parse(toolMessages(fake.chat[2])[1].content!)).toMatchObject({ content: '# Nine' });
      expect(res.body.actions).toEqual([
        {
          type: 'create_record',
          table: 'notes',
          data: { title: 'One', content: '# One' },
          agent: 'note_agent',
        },
        { type: 'delete_record', table: 'notes', data: { id: 'n7' }, agent: 'note_agent' },
        {
          type: 'update_record',
          table: 'notes',
          data: { id: 'n9', content: '# Nine, edited' },
          agent: 'note_agent',
        },
      ]);
    });

    it('checkpoint and project tools: ms dates and archive as an update', async () => {
      fake.reply(
        { content: 'project_agent,checkpoint_agent' },
        { tool_calls: [call('update_project', { project_id: 'p1', status: 'archived' })] },
        { content: 'Archived.' },
        {
          tool_calls: [
            call('create_checkpoint', {
              project_id: 'p1',
              title: 'Launch',
              date: DUE,
              is_ai_suggested: true,
            }),
          ],
        },
        { content: 'Milestone added.' },
        { content: 'Archived the project and added a milestone.' },
      );
      const res = await chat(pro, { message: 'Archive p1 and add its launch milestone' });
      expect(res.status).toBe(200);
      expect(res.body.actions).toEqual([
        {
          type: 'update_record',
          table: 'projects',
          data: { id: 'p1', status: 'archived' },
          agent: 'project_agent',
        },
        {
          type: 'create_record',
          table: 'checkpoints',
          data: { project_id: 'p1', title: 'Launch', date: DUE, is_ai_suggested: true },
          agent: 'checkpoint_agent',
        },
      ]);
    });
  });

  describe('pipelines', () => {
    it('runs the agents in order, each seeing previous_results, then synthesizes without tools', async () => {
      fake.reply(
        { content: 'project_agent, task_agent' },
        { tool_calls: [call('create_project', { name: 'Garden' })] },
        { content: 'Project Garden proposed.' },
        { tool_calls: [call('create_task', { title: 'Buy seeds', project_id: 'garden' })] },
        { content: 'Task proposed.' },
        { content: 'I proposed the project Garden and its first task, Buy seeds.' },
      );
      const res = await chat(free, { message: 'Start a garden project with a first task' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        response: 'I proposed the project Garden and its first task, Buy seeds.',
        actions: [
          {
            type: 'create_record',
            table: 'projects',
            data: { name: 'Garden', status: 'active' },
            agent: 'project_agent',
          },
          {
            type: 'create_record',
            table: 'tasks',
            data: { title: 'Buy seeds', project_id: 'garden', status: 'todo' },
            agent: 'task_agent',
          },
        ],
        agent: 'project_agent,task_agent',
      });
      expect(fake.chat.map((r) => r.tools.length)).toEqual([0, 6, 6, 8, 8, 0]);
      expect(systemOf(fake.chat[1])).not.toContain('Results of the agents that ran before you');
      expect(systemOf(fake.chat[3])).toContain('Results of the agents that ran before you');
      expect(systemOf(fake.chat[3])).toContain('Project Garden proposed.');
      const synthesis = fake.chat[5];
      expect(synthesis.model).toBe('gpt-4o');
      expect(synthesis.messages.at(-1)!.content).toContain('1. project_agent: Project Garden proposed.');
      expect(synthesis.messages.at(-1)!.content).toContain('2. task_agent: Task proposed.');
    });
  });

  describe('plan mode', () => {
    it('returns template ids and placeholders, never prompt text, after one router call', async () => {
      fake.reply({ content: 'note_agent' });
      const res = await chat(free, { message: 'Summarize my week', execution_mode: 'plan' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        agent: 'note_agent',
        steps: [
          {
            action: 'llm',
            prompt_template: 'tpl_note_agent_default',
            variables: { agent: 'note_agent', message: '{{message}}' },
            data_from_step: null,
          },
        ],
      });
      expect(fake.chat).toHaveLength(1);
      const body = JSON.stringify(res.body);
      for (const text of t.app.get(PromptTemplates).allTexts()) expect(body).not.toContain(text.slice(0, 40));
      expect(body).not.toContain('Summarize my week');
    });

    it('plans a pipeline as chained steps and a synthesis', async () => {
      fake.reply({ content: 'project_agent,checkpoint_agent' });
      const res = await chat(pro, { message: 'x', execution_mode: 'plan' });
      expect(res.body.agent).toBe('project_agent,checkpoint_agent');
      expect(res.body.steps).toEqual([
        expect.objectContaining({ prompt_template: 'tpl_project_agent_default', data_from_step: null }),
        expect.objectContaining({ prompt_template: 'tpl_checkpoint_agent_default', data_from_step: 0 }),
        { action: 'synthesize', prompt_template: null, variables: null, data_from_step: 1 },
      ]);
    });
  });

  describe('agents and playbooks', () => {
    it('lists the agents with their tools and what the tier allows', async () => {
      const freeList = await request(t.url).get('/api/v1/agents').set(free.auth).expect(200);
      expect(freeList.body).toEqual(
        (Object.keys(TOOLS) as AgentName[]).map((name) => ({
          name,
          description: expect.any(String),
          tools: TOOLS[name],
          available: name !== 'checkpoint_agent',
        })),
      );
      const proList = await request(t.url).get('/api/v1/agents').set(pro.auth).expect(200);
      expect(proList.body.every((a: { available: boolean }) => a.available)).toBe(true);
      expect(freeList.body.find((a: { name: string }) => a.name === 'checkpoint_agent').description).toBe(
        'Manages project checkpoints (milestones): list, create, update, delete',
      );
    });

    it('serves the two playbooks, one by id, and 404 for another id', async () => {
      const list = await request(t.url).get('/api/v1/plans/playbook').set(free.auth).expect(200);
      expect(list.body.map((p: { id: string }) => p.id)).toEqual([
        'create_tasks_from_project',
        'generate_weekly_note',
      ]);
      const one = await request(t.url)
        .get('/api/v1/plans/playbook/generate_weekly_note')
        .set(free.auth)
        .expect(200);
      expect(one.body).toEqual({
        id: 'generate_weekly_note',
        name: expect.any(String),
        description: 'LLM generates a weekly summary, then creates a note record',
        required_tier: 'free',
        agent: 'note_agent',
        steps: [
          expect.objectContaining({
            action: 'llm',
            prompt_template: 'tpl_note_weekly_summary',
            data_from_step: null,
          }),
          {
            action: 'create_record',
            prompt_template: null,
            variables: { table: 'notes' },
            data_from_step: 0,
          },
        ],
      });
      const missing = await request(t.url).get('/api/v1/plans/playbook/nope').set(free.auth).expect(404);
      expect(missing.body.code).toBe('not_found');
    });
  });

  it('documents the routes with method-name operation ids, both auth schemes and the error responses', async () => {
    const doc = (await request(t.url).get('/docs-json').expect(200)).body;
    // Paths are relative to the document's server, /api/v1.
    expect(doc.servers[0].url).toBe('/api/v1');
    const op = (path: string, method: string) => doc.paths[path][method];
    expect(op('/chat', 'post').operationId).toBe('chat');
    expect(op('/chat/stream', 'post').operationId).toBe('chatStream');
    expect(op('/agents', 'get').operationId).toBe('listAgents');
    expect(op('/plans/playbook', 'get').operationId).toBe('listPlaybooks');
    expect(op('/plans/playbook/{id}', 'get').operationId).toBe('getPlaybook');
    expect(Object.keys(op('/chat', 'post').responses).sort()).toEqual(
      ['200', '400', '401', '403', '413', '415', '429', '502', '503', '504'].sort(),
    );
    expect(op('/plans/playbook/{id}', 'get').responses['404']).toBeDefined();
    expect(op('/chat', 'post').security).toEqual(expect.arrayContaining([{ bearer: [] }, { api_key: [] }]));
  });

  describe('provider failures', () => {
    it('retries a 429 and a 500, then succeeds', async () => {
      fake.reply({ status: 429 }, { status: 500 }, { content: 'task_agent' }, { content: 'fine' });
      const res = await chat(free, { message: 'x' });
      expect(res.status).toBe(200);
      expect(res.body.response).toBe('fine');
      expect(fake.chat).toHaveLength(4);
    });

    it('answers 502 provider_unavailable when the provider keeps failing (3 attempts)', async () => {
      fake.reply({ status: 503 }, { status: 503 }, { status: 503 }, { content: 'never asked' });
      const res = await chat(free, { message: 'x' });
      expect(res.status).toBe(502);
      expect(res.body).toMatchObject({ code: 'provider_unavailable' });
      expect(res.body.message).toMatch(/answered 503 after 3 attempts \(model gpt-4o-mini\)/);
      expect(fake.chat).toHaveLength(3);
    });

    it('does not retry another 4xx', async () => {
      fake.reply({ status: 404 }, { content: 'never asked' });
      const res = await chat(free, { message: 'x' });
      expect(res.status).toBe(502);
      expect(res.body.message).toMatch(/answered 404 \(model gpt-4o-mini\)/);
      expect(fake.chat).toHaveLength(1);
    });

    it('answers 504 provider_timeout when a call exceeds LLM_TIMEOUT_MS, and aborts the upstream request', async () => {
      // A slow answer inside the limit is waited for: the timeout is not cut short.
      fake.reply({ content: 'task_agent' }, { content: 'slow but in time', delayMs: 1000 });
      const slow = await chat(free, { message: 'x' });
      expect(slow.status).toBe(200);
      expect(slow.body.response).toBe('slow but in time');

      fake.reset();
      fake.reply({ content: 'task_agent' }, { hang: true });
      const res = await chat(free, { message: 'x' });
      expect(res.status).toBe(504);
      expect(res.body).toMatchObject({ code: 'provider_timeout' });
      expect(res.body.message).toMatch(/within 3000 ms \(model gpt-4o\)/);
      await until(() => fake.chat[1].aborted);
      // Not retried: the hanging call was the last.
      expect(fake.chat).toHaveLength(2);
    });

    it('aborts the upstream request when the client goes away', async () => {
      fake.reply({ content: 'task_agent' }, { hang: true });
      const controller = new AbortController();
      const pending = fetch(`${t.url}/api/v1/chat`, {
        method: 'POST',
        headers: { ...free.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'x' }),
        signal: controller.signal,
      }).catch((err: Error) => err);
      await until(() => fake.chat.length === 2);
      expect(fake.chat[1].aborted).toBe(false);
      controller.abort();
      await pending;
      await until(() => fake.chat[1].aborted, 1000);
    });
  });

  describe('requests', () => {
    it.each([
      ['no message', {}],
      ['an empty message', { message: '' }],
      ['a message over 16,000 characters', { message: 'a'.repeat(16_001) }],
      ['a number as message', { message: 42 }],
      ['an unknown execution_mode', { message: 'x', execution_mode: 'auto' }],
      ['a context that is not an object', { message: 'x', context: ['a'] }],
      ['recent_tasks that is not an array', { message: 'x', context: { recent_tasks: { id: 1 } } }],
      ['relevant_documents that are not strings', { message: 'x', context: { relevant_documents: [{}] } }],
      ['a client-made previous_results', { message: 'x', context: { previous_results: [] } }],
      ['a context over 256 KiB', { message: 'x', context: { relevant_documents: ['d'.repeat(256 * 1024)] } }],
    ])('answers 400 validation_failed to %s, without a model call', async (_label, body) => {
      const res = await chat(free, body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(fake.chat).toHaveLength(0);
    });

    it('accepts a message of exactly 16,000 characters and a context just under 256 KiB', async () => {
      fake.reply({ content: 'task_agent' }, { content: 'ok' });
      const docs = ['d'.repeat(256 * 1024 - 30)];
      const res = await chat(free, { message: 'a'.repeat(16_000), context: { relevant_documents: docs } });
      expect(res.status).toBe(200);
    });

    it('never logs the message or the context', async () => {
      fake.reply(
        { content: 'task_agent' },
        { tool_calls: [call('create_task', { title: 'x', due_date: 1 })] },
        { content: 'ok' },
      );
      const secret = `secret-${Date.now()}`;
      await chat(free, {
        message: `Remember ${secret}`,
        context: { recent_tasks: [{ id: 'x', title: `${secret}-task` }], user_profile: { name: secret } },
      }).expect(200);
      fake.reply({ status: 500 }, { status: 500 }, { status: 500 });
      await chat(free, { message: `Again ${secret}` }).expect(502);
      expect(t.logs.text).toContain('/api/v1/chat');
      expect(t.logs.text).not.toContain(secret);
    });
  });

  describe('streaming through the orchestrator (for the streaming transports)', () => {
    it('yields tokens as they arrive, asks for usage in the stream and reports it', async () => {
      const usage: ChatUsage[] = [];
      const off = t.app.get(ChatModel).onUsage((u) => usage.push(u));
      const reply: ScriptedReply = { content: 'Here are your three tasks for today.', chunkDelayMs: 5 };
      fake.reply(
        { content: 'task_agent' },
        { tool_calls: [call('list_tasks_due_today', {})], chunkDelayMs: 5 },
        reply,
      );
      const tokens: string[] = [];
      let done: unknown;
      for await (const event of t.app
        .get(OrchestratorService)
        .orchestrateStream({ message: 'What is due today?' }, { userId: free.id, tier: 'free' })) {
        if (event.type === 'token') tokens.push(event.text);
        else done = event.result;
      }
      off();
      expect(tokens.length).toBeGreaterThan(3);
      expect(tokens.join('')).toBe(reply.content);
      expect(done).toEqual({ response: reply.content, actions: [], agent: 'task_agent' });
      expect(fake.chat.map((r) => [r.stream, r.includeUsage])).toEqual([
        [false, false],
        [true, true],
        [true, true],
      ]);
      expect(usage.map((u) => [u.role, u.model, u.streamed, u.userId])).toEqual([
        ['router', 'gpt-4o-mini', false, free.id],
        ['agent', 'gpt-4o', true, free.id],
        ['agent', 'gpt-4o', true, free.id],
      ]);
      expect(usage.every((u) => u.inputTokens > 0 && u.outputTokens > 0)).toBe(true);
    });
  });
});

describe('chat without a model endpoint', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers 503 feature_not_configured saying what to set', async () => {
    const user = await newUser(t);
    const res = await request(t.url).post('/api/v1/chat').set(user.auth).send({ message: 'hello' });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('feature_not_configured');
    expect(res.body.message).toMatch(/OPENAI_API_KEY/);
    expect(res.body.message).toMatch(/OPENAI_BASE_URL/);
  });
});
