import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeChatMessage, FakeChatRequest, ScriptedReply } from './fake-openai.js';
import {
  argsObject,
  assistantMessage,
  type PlannedReply,
  ScriptedChatFake,
  sendJson,
  words,
} from './fake-llm.js';

type Block =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content: string | Array<{ type: string; text?: string }> };

interface MessagesBody {
  model?: string;
  system?: string | Array<{ type: string; text: string }>;
  messages?: Array<{ role: string; content: string | Block[] }>;
  tools?: Array<{ name: string; input_schema: unknown }>;
  stream?: boolean;
}

const ERRORS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
  529: 'overloaded_error',
};

/**
 * A local server speaking Anthropic's Messages API (`POST /v1/messages`,
 * `x-api-key`) for the real `@langchain/anthropic` client: a JSON message, or
 * the SSE events `message_start` (with `usage.input_tokens`),
 * `content_block_start` / `content_block_delta` (`text_delta`, and
 * `input_json_delta` pieces of a `tool_use` block's input) /
 * `content_block_stop`, `message_delta` (stop reason and
 * `usage.output_tokens`) and `message_stop`. Errors in Anthropic's shape.
 */
export class FakeAnthropic extends ScriptedChatFake {
  constructor(apiKey = 'sk-ant-test-fake') {
    super(apiKey);
  }

  /** The environment an app needs to call this fake for `anthropic:` models. */
  get env(): { ANTHROPIC_API_KEY: string; ANTHROPIC_BASE_URL: string } {
    return { ANTHROPIC_API_KEY: this.apiKey, ANTHROPIC_BASE_URL: this.origin };
  }

  protected async handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    if (req.headers['x-api-key'] !== this.apiKey) return fail(res, 401, 'invalid x-api-key');
    if (req.method !== 'POST' || req.url !== '/v1/messages') return fail(res, 404, `Not found: ${req.url}`);
    if (!body || typeof body !== 'object') return fail(res, 400, 'The request body is not valid JSON.');
    const request = toRequest(body);
    const taken = await this.take(res, request, {
      missing: () => fail(res, 400, 'FakeAnthropic: no scripted reply for this request'),
      status: (status) => fail(res, status, 'Scripted failure'),
    });
    if (!taken) return;
    const planned = this.plan(taken.reply, taken.recorded);
    if (!request.stream) return sendJson(res, 200, message(request.model, planned, true));
    await this.streamReply(res, taken.recorded, taken.reply, planned);
  }

  private async streamReply(
    res: ServerResponse,
    request: FakeChatRequest,
    reply: ScriptedReply,
    planned: PlannedReply,
  ) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (type: string, data: Record<string, unknown>) =>
      this.write(res, request, reply, `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    const start = message(request.model, { ...planned, content: '', calls: [], completionTokens: 1 }, false);
    await send('message_start', { message: start });
    let index = 0;
    if (planned.content) {
      await send('content_block_start', { index, content_block: { type: 'text', text: '' } });
      for (const piece of words(planned.content)) {
        await send('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
      }
      await send('content_block_stop', { index: index++ });
    }
    for (const call of planned.calls) {
      const block = { type: 'tool_use', id: call.id, name: call.name, input: {} };
      await send('content_block_start', { index, content_block: block });
      // The input arrives as pieces of its JSON, as a model writes it.
      for (const part of call.arguments.match(/[\s\S]{1,8}/g) ?? []) {
        await send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: part } });
      }
      await send('content_block_stop', { index: index++ });
    }
    const stop_reason = planned.calls.length ? 'tool_use' : 'end_turn';
    await send('message_delta', {
      delta: { stop_reason, stop_sequence: null },
      usage: { output_tokens: planned.completionTokens },
    });
    if (res.destroyed) return;
    res.end(`event: message_stop\ndata: ${JSON.stringify({ type: 'message_stop' })}\n\n`);
  }
}

function message(model: string, planned: PlannedReply, whole: boolean) {
  const content: Block[] = [
    ...(planned.content ? [{ type: 'text' as const, text: planned.content }] : []),
    ...planned.calls.map((c) => ({
      type: 'tool_use' as const,
      id: c.id,
      name: c.name,
      input: argsObject(c.arguments),
    })),
  ];
  return {
    id: `msg_fake_${Date.now()}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: whole ? (planned.calls.length ? 'tool_use' : 'end_turn') : null,
    stop_sequence: null,
    usage: { input_tokens: planned.promptTokens, output_tokens: planned.completionTokens },
  };
}

function fail(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { type: 'error', error: { type: ERRORS[status] ?? 'api_error', message } });
}

/** The request in the shape every fake records: system first, tool results as `tool` messages. */
function toRequest(body: MessagesBody): Omit<FakeChatRequest, 'aborted' | 'chunksSent'> {
  const messages: FakeChatMessage[] = [];
  const system =
    typeof body.system === 'string' ? body.system : (body.system ?? []).map((b) => b.text).join('');
  if (system) messages.push({ role: 'system', content: system });
  for (const m of body.messages ?? []) messages.push(...fromMessage(m));
  const tools = body.tools ?? [];
  return {
    model: String(body.model),
    messages,
    tools: tools.map((t) => t.name),
    toolSchemas: Object.fromEntries(tools.map((t) => [t.name, t.input_schema])),
    stream: body.stream === true,
    includeUsage: true,
  };
}

function fromMessage(m: { role: string; content: string | Block[] }): FakeChatMessage[] {
  if (typeof m.content === 'string') return [{ role: m.role, content: m.content }];
  const text = m.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
  if (m.role === 'assistant') {
    const calls = m.content.flatMap((b) =>
      b.type === 'tool_use' ? [{ id: b.id, name: b.name, args: b.input }] : [],
    );
    return [assistantMessage(text, calls)];
  }
  const results = m.content.flatMap((b): FakeChatMessage[] =>
    b.type === 'tool_result'
      ? [
          {
            role: 'tool',
            tool_call_id: b.tool_use_id,
            content: typeof b.content === 'string' ? b.content : b.content.map((c) => c.text ?? '').join(''),
          },
        ]
      : [],
  );
  return [...results, ...(text ? [{ role: m.role, content: text }] : [])];
}
