import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A deterministic embedding of a text: floats in [-1, 1] from repeated
 * SHA-256 of it. The same text always gives the same vector, so a test can
 * store the vector a text will be embedded to and search by that text.
 */
export function fakeEmbedding(text: string, dims: number): number[] {
  const out: number[] = [];
  for (let block = 0; out.length < dims; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest();
    for (const b of digest) {
      if (out.length === dims) break;
      out.push((b - 127.5) / 127.5);
    }
  }
  return out;
}

export interface FakeOpenAiRequest {
  path: string;
  model: string;
  authorization: string | undefined;
  dimensions?: number;
  inputs: number;
}

export interface ScriptedToolCall {
  id?: string;
  name: string;
  /** An object is sent as its JSON; a string is sent as it is (so a test can send broken JSON). */
  arguments: string | Record<string, unknown>;
}

/** One chat completion the fake answers with. */
export interface ScriptedReply {
  content?: string;
  tool_calls?: ScriptedToolCall[];
  /** Answer this HTTP error status instead (OpenAI's error shape). */
  status?: number;
  /** Wait this long before the response starts. */
  delayMs?: number;
  /** Streams: wait this long between chunks. */
  chunkDelayMs?: number;
  /** Never answer: the request stays open until the client gives up. */
  hang?: boolean;
  /** Streams: drop the connection after this many chunks (the fakes of fake-llm.ts only). */
  cutAfterChunks?: number;
  /** Report these token counts instead of the fake's own estimate. */
  usage?: { prompt_tokens: number; completion_tokens: number };
}

export type ChatScript = ScriptedReply | ((request: FakeChatRequest) => ScriptedReply);

export interface FakeChatMessage {
  role: string;
  content: string | null;
  tool_calls?: Array<{ id: string; type: string; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

/** A chat completion request as the fake received it. */
export interface FakeChatRequest {
  model: string;
  messages: FakeChatMessage[];
  /** Names of the tools offered, in order. */
  tools: string[];
  toolSchemas: Record<string, unknown>;
  stream: boolean;
  includeUsage: boolean;
  /** The client closed the connection before the answer was complete. */
  aborted: boolean;
  /** Milliseconds from the request's arrival to the end of its answer (or its abort). */
  durationMs?: number;
  /** When the connection closed (`Date.now()`), to time an abort against the client's cancel. */
  endedAt?: number;
  /** Stream chunks written so far (the role chunk included), to cut a stream part-way through. */
  chunksSent: number;
}

/**
 * A local server speaking OpenAI's HTTP API for the real `@langchain/openai`
 * client: `POST /v1/embeddings` (float or base64 encodings as the client
 * asks) and `POST /v1/chat/completions` (JSON, or SSE chunks with content and
 * tool-call argument deltas, `usage` only when `stream_options.include_usage`
 * asks, errors, delays and hangs), answering chat requests from a per-test
 * script. Errors use OpenAI's error shape.
 */
export class FakeOpenAi {
  readonly requests: FakeOpenAiRequest[] = [];
  /** Every chat completion request, in arrival order. */
  readonly chat: FakeChatRequest[] = [];
  /** Answers chat requests when the script is empty (unset: a 400 naming the gap). */
  fallback?: (request: FakeChatRequest) => ScriptedReply;
  /** The prompt_tokens embeddings answers report (default: one per input). */
  embeddingTokens?: number;
  private server?: Server;
  private failures: number[] = [];
  private script: ChatScript[] = [];
  private replyCounter = 0;

  /** Queues replies for the next chat requests, in order. */
  reply(...replies: ChatScript[]): this {
    this.script.push(...replies);
    return this;
  }

  /** Forgets the script, the fallback and the recorded requests (between tests). */
  reset(): void {
    this.script = [];
    this.fallback = undefined;
    this.embeddingTokens = undefined;
    this.chat.length = 0;
    this.requests.length = 0;
    this.failures = [];
  }

  /** Scripted replies not consumed yet. */
  get pending(): number {
    return this.script.length;
  }

  constructor(
    readonly apiKey = 'sk-test-fake-openai',
    /** Dimension answered when the request does not ask for one. */
    readonly defaultDimensions = 1536,
  ) {}

  /** http://127.0.0.1:<port>/v1, the value for OPENAI_BASE_URL. */
  /** The environment an app needs to use this fake as its model endpoint. */
  get env(): { OPENAI_API_KEY: string; OPENAI_BASE_URL: string } {
    return { OPENAI_API_KEY: this.apiKey, OPENAI_BASE_URL: this.baseUrl };
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1`;
  }

  /** The next `times` requests answer `status` (the client retries 5xx and 429). */
  failNext(status: number, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(status);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return send(res, 401, error('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'));
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return send(
        res,
        400,
        error('We could not parse the JSON body of your request.', 'invalid_request_error'),
      );
    }
    if (req.method === 'POST' && req.url === '/v1/embeddings') return this.embeddings(req, res, body);
    if (req.method === 'POST' && req.url === '/v1/chat/completions')
      return this.completions(res, body, started);
    return send(res, 404, error(`Unknown request URL: ${req.method} ${req.url}`, 'invalid_request_error'));
  }

  private async completions(
    res: ServerResponse,
    body: Record<string, unknown>,
    started: number,
  ): Promise<void> {
    const tools = Array.isArray(body.tools)
      ? (body.tools as Array<{ function: { name: string; parameters: unknown } }>)
      : [];
    const streamOptions = body.stream_options as { include_usage?: boolean } | undefined;
    const request: FakeChatRequest = {
      model: String(body.model),
      messages: (body.messages as FakeChatMessage[]) ?? [],
      tools: tools.map((t) => t.function.name),
      toolSchemas: Object.fromEntries(tools.map((t) => [t.function.name, t.function.parameters])),
      stream: body.stream === true,
      includeUsage: body.stream === true && streamOptions?.include_usage === true,
      aborted: false,
      chunksSent: 0,
    };
    this.chat.push(request);
    res.on('close', () => {
      if (!res.writableFinished) request.aborted = true;
      request.durationMs = performance.now() - started;
      request.endedAt = Date.now();
    });
    const next = this.script.shift();
    const reply = typeof next === 'function' ? next(request) : (next ?? this.fallback?.(request));
    if (!reply) {
      return send(
        res,
        400,
        error('FakeOpenAi: no scripted reply for this chat request', 'invalid_request_error'),
      );
    }
    if (reply.hang) return;
    if (reply.delayMs) await sleep(reply.delayMs);
    if (res.destroyed) return;
    if (reply.status) return send(res, reply.status, statusError(reply.status));

    const id = `chatcmpl-${++this.replyCounter}`;
    const created = Math.floor(Date.now() / 1000);
    const calls = (reply.tool_calls ?? []).map((c, i) => ({
      id: c.id ?? `call_${this.replyCounter}_${i}`,
      type: 'function' as const,
      function: {
        name: c.name,
        arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
      },
    }));
    const content = reply.content ?? (calls.length ? null : '');
    const finish = calls.length ? 'tool_calls' : 'stop';
    const promptTokens = reply.usage?.prompt_tokens ?? tokens(JSON.stringify(request.messages));
    const completionTokens =
      reply.usage?.completion_tokens ??
      tokens((content ?? '') + calls.map((c) => c.function.arguments).join(''));
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const base = { id, created, model: request.model, system_fingerprint: 'fp_fake' };

    if (!request.stream) {
      return send(res, 200, {
        ...base,
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content,
              refusal: null,
              ...(calls.length ? { tool_calls: calls } : {}),
            },
            logprobs: null,
            finish_reason: finish,
          },
        ],
        usage,
      });
    }

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    const write = async (delta: Record<string, unknown>, finishReason: string | null = null) => {
      if (res.destroyed) return;
      const chunk = {
        ...base,
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
        ...(request.includeUsage ? { usage: null } : {}),
      };
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      request.chunksSent++;
      if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
    };
    await write({ role: 'assistant', content: '', refusal: null });
    // Content in word-sized pieces, as a model emits it.
    for (const piece of (content ?? '').match(/\S+\s*|\s+/g) ?? []) await write({ content: piece });
    for (const [index, call] of calls.entries()) {
      await write({
        tool_calls: [
          { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
        ],
      });
      // Arguments arrive as deltas of a few characters.
      for (const part of call.function.arguments.match(/[\s\S]{1,8}/g) ?? []) {
        await write({ tool_calls: [{ index, function: { arguments: part } }] });
      }
    }
    await write({}, finish);
    if (res.destroyed) return;
    if (request.includeUsage) {
      res.write(
        `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`,
      );
    }
    res.end('data: [DONE]\n\n');
  }

  private embeddings(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>): void {
    const input = typeof body.input === 'string' ? [body.input] : (body.input as string[] | undefined);
    const dims = typeof body.dimensions === 'number' ? body.dimensions : this.defaultDimensions;
    this.requests.push({
      path: req.url!,
      model: String(body.model),
      authorization: req.headers.authorization,
      dimensions: body.dimensions as number | undefined,
      inputs: input?.length ?? 0,
    });
    const failure = this.failures.shift();
    if (failure)
      return send(res, failure, error('The server had an error processing your request.', 'server_error'));
    if (!Array.isArray(input) || input.some((i) => typeof i !== 'string')) {
      return send(
        res,
        400,
        error("'input' must be a string or an array of strings", 'invalid_request_error'),
      );
    }
    const base64 = body.encoding_format === 'base64';
    send(res, 200, {
      object: 'list',
      model: body.model,
      data: input.map((text, index) => {
        const vector = fakeEmbedding(text, dims);
        return {
          object: 'embedding',
          index,
          embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
        };
      }),
      usage: {
        prompt_tokens: this.embeddingTokens ?? input.length,
        total_tokens: this.embeddingTokens ?? input.length,
      },
    });
  }
}

function error(message: string, type: string, code: string | null = null) {
  return { error: { message, type, param: null, code } };
}

const ERROR_TEXT: Record<number, [string, string, string | null]> = {
  400: ['Invalid request.', 'invalid_request_error', null],
  401: ['Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'],
  404: [
    'The model does not exist or you do not have access to it.',
    'invalid_request_error',
    'model_not_found',
  ],
  429: ['Rate limit reached for requests. Please try again in 20ms.', 'requests', 'rate_limit_exceeded'],
};

function statusError(status: number) {
  const [message, type, code] = ERROR_TEXT[status] ?? [
    'The server had an error while processing your request. Sorry about that!',
    'server_error',
    null,
  ];
  return error(message, type, code);
}

/** A rough token count (4 characters a token), enough for usage figures. */
const tokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
