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

type Part =
  | { text: string }
  | { functionCall: { name: string; args: unknown } }
  | { functionResponse: { name: string; response: unknown } };

interface GenerateBody {
  contents?: Array<{ role: string; parts: Part[] }>;
  systemInstruction?: { parts: Array<{ text?: string }> };
  tools?: Array<{ functionDeclarations?: Array<{ name: string; parameters?: unknown }> }>;
}

const STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  503: 'UNAVAILABLE',
};

/**
 * A local server speaking the Gemini API (`POST /v1beta/models/{model}:generateContent`
 * and `:streamGenerateContent?alt=sse`, `x-goog-api-key`) for the real
 * `@langchain/google-genai` client: candidates whose parts are text or a
 * `functionCall` (whole, with its arguments as an object: Gemini does not
 * stream them), `finishReason` and `usageMetadata` (promptTokenCount,
 * candidatesTokenCount) on the last chunk. Errors in Google's shape.
 */
export class FakeGemini extends ScriptedChatFake {
  constructor(apiKey = 'AIza-test-fake-gemini') {
    super(apiKey);
  }

  /** The environment an app needs to call this fake for `google-genai:` models. */
  get env(): { GOOGLE_API_KEY: string; GOOGLE_BASE_URL: string } {
    return { GOOGLE_API_KEY: this.apiKey, GOOGLE_BASE_URL: this.origin };
  }

  protected async handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    if (req.headers['x-goog-api-key'] !== this.apiKey) return fail(res, 401, 'API key not valid.');
    const route = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)(\?alt=sse)?$/.exec(
      req.url ?? '',
    );
    if (req.method !== 'POST' || !route) return fail(res, 404, `Not found: ${req.url}`);
    if (!body || typeof body !== 'object') return fail(res, 400, 'Invalid JSON payload received.');
    const request = toRequest(route[1], body, route[2] === 'streamGenerateContent');
    const taken = await this.take(res, request, {
      missing: () => fail(res, 400, 'FakeGemini: no scripted reply for this request'),
      status: (status) => fail(res, status, 'Scripted failure'),
    });
    if (!taken) return;
    const planned = this.plan(taken.reply, taken.recorded);
    if (!request.stream) return sendJson(res, 200, chunk(request.model, parts(planned), planned, true));
    await this.streamReply(res, taken.recorded, taken.reply, planned);
  }

  private async streamReply(
    res: ServerResponse,
    request: FakeChatRequest,
    reply: ScriptedReply,
    planned: PlannedReply,
  ) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const send = (body: unknown) => this.write(res, request, reply, `data: ${JSON.stringify(body)}\r\n\r\n`);
    const pieces = words(planned.content);
    const calls = parts({ ...planned, content: '' });
    for (const [i, piece] of pieces.entries()) {
      await send(chunk(request.model, [{ text: piece }], planned, !calls.length && i === pieces.length - 1));
    }
    if (calls.length || !pieces.length) await send(chunk(request.model, calls, planned, true));
    if (!res.destroyed) res.end();
  }
}

function parts(planned: PlannedReply): Part[] {
  return [
    ...(planned.content ? [{ text: planned.content }] : []),
    ...planned.calls.map((c) => ({ functionCall: { name: c.name, args: argsObject(c.arguments) } })),
  ];
}

/** One GenerateContentResponse; the last one carries the finish reason and the usage. */
function chunk(model: string, content: Part[], planned: PlannedReply, last: boolean) {
  return {
    candidates: [
      { content: { role: 'model', parts: content }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) },
    ],
    ...(last
      ? {
          usageMetadata: {
            promptTokenCount: planned.promptTokens,
            candidatesTokenCount: planned.completionTokens,
            totalTokenCount: planned.promptTokens + planned.completionTokens,
          },
        }
      : {}),
    modelVersion: model,
  };
}

function fail(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: { code: status, message, status: STATUS[status] ?? 'INTERNAL' } });
}

/** The request as every fake records it: the system instruction first, function responses as `tool` messages. */
function toRequest(
  model: string,
  body: GenerateBody,
  stream: boolean,
): Omit<FakeChatRequest, 'aborted' | 'chunksSent'> {
  const messages: FakeChatMessage[] = [];
  const system = (body.systemInstruction?.parts ?? []).map((p) => p.text ?? '').join('');
  if (system) messages.push({ role: 'system', content: system });
  for (const content of body.contents ?? []) messages.push(...fromContent(content));
  const declarations = (body.tools ?? []).flatMap((t) => t.functionDeclarations ?? []);
  return {
    model,
    messages,
    tools: declarations.map((d) => d.name),
    toolSchemas: Object.fromEntries(declarations.map((d) => [d.name, d.parameters])),
    stream,
    includeUsage: true,
  };
}

function fromContent(content: { role: string; parts: Part[] }): FakeChatMessage[] {
  const text = content.parts.flatMap((p) => ('text' in p ? [p.text] : [])).join('');
  if (content.role === 'model') {
    const calls = content.parts.flatMap((p, i) =>
      'functionCall' in p
        ? [{ id: `${p.functionCall.name}_${i}`, name: p.functionCall.name, args: p.functionCall.args }]
        : [],
    );
    return [assistantMessage(text, calls)];
  }
  const results = content.parts.flatMap((p): FakeChatMessage[] =>
    'functionResponse' in p
      ? [
          {
            role: 'tool',
            tool_call_id: p.functionResponse.name,
            content: JSON.stringify(p.functionResponse.response),
          },
        ]
      : [],
  );
  return [...results, ...(text ? [{ role: 'user', content: text }] : [])];
}
