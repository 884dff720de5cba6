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

interface OllamaMessage {
  role: string;
  content?: string;
  tool_calls?: Array<{ function: { name: string; arguments: unknown } }>;
  tool_name?: string;
}

interface ChatBody {
  model?: string;
  messages?: OllamaMessage[];
  tools?: Array<{ function: { name: string; parameters: unknown } }>;
  stream?: boolean;
}

/**
 * A local server speaking Ollama's `POST /api/chat` for the real
 * `@langchain/ollama` client (no key): NDJSON lines of `{message: {role,
 * content}, done: false}`, tool calls whole in `message.tool_calls` (arguments
 * as an object), then `{done: true, done_reason, prompt_eval_count,
 * eval_count}`; or one JSON object with `stream: false`. Errors as `{error}`.
 */
export class FakeOllama extends ScriptedChatFake {
  constructor() {
    super('');
  }

  /** The environment an app needs to call this fake for `ollama:` models. */
  get env(): { OLLAMA_BASE_URL: string } {
    return { OLLAMA_BASE_URL: this.origin };
  }

  protected async handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/api/chat')
      return sendJson(res, 404, { error: '404 page not found' });
    if (!body || typeof body !== 'object') return sendJson(res, 400, { error: 'invalid JSON' });
    const request = toRequest(body);
    const taken = await this.take(res, request, {
      missing: () => sendJson(res, 400, { error: 'FakeOllama: no scripted reply for this request' }),
      status: (status) => sendJson(res, status, { error: `scripted failure ${status}` }),
    });
    if (!taken) return;
    const planned = this.plan(taken.reply, taken.recorded);
    if (!request.stream)
      return sendJson(res, 200, {
        ...line(request.model, planned.content, calls(planned)),
        ...done(planned),
      });
    await this.streamReply(res, taken.recorded, taken.reply, planned);
  }

  private async streamReply(
    res: ServerResponse,
    request: FakeChatRequest,
    reply: ScriptedReply,
    planned: PlannedReply,
  ) {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const send = (body: unknown) => this.write(res, request, reply, `${JSON.stringify(body)}\n`);
    for (const piece of words(planned.content)) await send(line(request.model, piece, []));
    if (planned.calls.length) await send(line(request.model, '', calls(planned)));
    if (res.destroyed) return;
    res.end(`${JSON.stringify({ ...line(request.model, '', []), ...done(planned) })}\n`);
  }
}

const calls = (planned: PlannedReply) =>
  planned.calls.map((c) => ({ function: { name: c.name, arguments: argsObject(c.arguments) } }));

function line(model: string, content: string, toolCalls: ReturnType<typeof calls>) {
  return {
    model,
    created_at: new Date().toISOString(),
    message: { role: 'assistant', content, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
    done: false,
  };
}

function done(planned: PlannedReply) {
  return {
    done: true,
    done_reason: 'stop',
    total_duration: 1_000_000,
    prompt_eval_count: planned.promptTokens,
    eval_count: planned.completionTokens,
  };
}

/** The request as every fake records it (Ollama's messages are nearly OpenAI's already). */
function toRequest(body: ChatBody): Omit<FakeChatRequest, 'aborted' | 'chunksSent'> {
  const messages: FakeChatMessage[] = (body.messages ?? []).map((m) => {
    if (m.role === 'assistant') {
      const toolCalls = (m.tool_calls ?? []).map((c, i) => ({
        id: `${c.function.name}_${i}`,
        name: c.function.name,
        args: c.function.arguments,
      }));
      return assistantMessage(m.content ?? '', toolCalls);
    }
    return { role: m.role, content: m.content ?? '', ...(m.tool_name ? { tool_call_id: m.tool_name } : {}) };
  });
  const tools = body.tools ?? [];
  return {
    model: String(body.model),
    messages,
    tools: tools.map((t) => t.function.name),
    toolSchemas: Object.fromEntries(tools.map((t) => [t.function.name, t.function.parameters])),
    stream: body.stream !== false,
    includeUsage: true,
  };
}
