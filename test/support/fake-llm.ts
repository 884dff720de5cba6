import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatScript, FakeChatMessage, FakeChatRequest, ScriptedReply } from './fake-openai.js';

/*
 * What the fake model providers share, so one test drives any of them the same
 * way: a queue of scripted replies (the ScriptedReply of fake-openai.ts), every
 * chat request recorded in one shape (OpenAI's roles and tool calls, whatever
 * the provider's wire format), and an abort seen as the client closing the
 * connection before the answer was complete. Each subclass speaks its
 * provider's real HTTP protocol for the real LangChain client.
 */

/** What every fake provider offers a test (FakeOpenAi has the same members). */
export interface FakeChatProvider {
  readonly chat: FakeChatRequest[];
  fallback?: (request: FakeChatRequest) => ScriptedReply;
  reply(...replies: ChatScript[]): this;
  reset(): void;
  readonly pending: number;
  start(): Promise<this>;
  stop(): Promise<void>;
}

/** A reply worked out for the wire: its text, its tool calls (arguments as sent) and its token counts. */
export interface PlannedReply {
  content: string;
  calls: Array<{ id: string; name: string; arguments: string }>;
  promptTokens: number;
  completionTokens: number;
}

/** A rough token count (4 characters a token), enough for usage figures. */
export const fakeTokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

/** Content in word-sized pieces, as a model emits it. */
export const words = (text: string): string[] => text.match(/\S+\s*|\s+/g) ?? [];

/** Tool arguments as an object, for protocols that carry objects (a string that is not JSON becomes {}). */
export function argsObject(args: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(args);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

export abstract class ScriptedChatFake implements FakeChatProvider {
  readonly chat: FakeChatRequest[] = [];
  fallback?: (request: FakeChatRequest) => ScriptedReply;
  private server?: Server;
  private script: ChatScript[] = [];
  protected replyCounter = 0;

  constructor(readonly apiKey: string) {}

  reply(...replies: ChatScript[]): this {
    this.script.push(...replies);
    return this;
  }

  reset(): void {
    this.script = [];
    this.fallback = undefined;
    this.chat.length = 0;
  }

  get pending(): number {
    return this.script.length;
  }

  /** http://127.0.0.1:<port>, with no path. */
  get origin(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.receive(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Answers one HTTP request: `body` is its parsed JSON (undefined when it is not JSON). */
  protected abstract handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void>;

  private async receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      body = undefined;
    }
    await this.handle(req, res, body);
  }

  /**
   * Records a chat request and takes its scripted reply, after the reply's
   * delay; undefined when the request is answered already (no script: `onMissing`
   * answered it; a hang; the client left) or the reply is an error status (`onStatus`).
   */
  protected async take(
    res: ServerResponse,
    request: Omit<FakeChatRequest, 'aborted' | 'chunksSent'>,
    answer: { missing: () => void; status: (status: number) => void },
  ): Promise<{ reply: ScriptedReply; recorded: FakeChatRequest } | undefined> {
    const started = performance.now();
    const recorded: FakeChatRequest = { ...request, aborted: false, chunksSent: 0 };
    this.chat.push(recorded);
    res.on('close', () => {
      if (!res.writableFinished) recorded.aborted = true;
      recorded.durationMs = performance.now() - started;
      recorded.endedAt = Date.now();
    });
    const next = this.script.shift();
    const reply = typeof next === 'function' ? next(recorded) : (next ?? this.fallback?.(recorded));
    if (!reply) return void answer.missing();
    if (reply.hang) return undefined;
    if (reply.delayMs) await sleep(reply.delayMs);
    if (res.destroyed) return undefined;
    if (reply.status) return void answer.status(reply.status);
    return { reply, recorded };
  }

  /** The reply's text, calls and token counts, as FakeOpenAi works them out. */
  protected plan(reply: ScriptedReply, request: FakeChatRequest): PlannedReply {
    const n = ++this.replyCounter;
    const calls = (reply.tool_calls ?? []).map((c, i) => ({
      id: c.id ?? `call_${n}_${i}`,
      name: c.name,
      arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
    }));
    const content = reply.content ?? '';
    return {
      content,
      calls,
      promptTokens: reply.usage?.prompt_tokens ?? fakeTokens(JSON.stringify(request.messages)),
      completionTokens:
        reply.usage?.completion_tokens ?? fakeTokens(content + calls.map((c) => c.arguments).join('')),
    };
  }

  /** Writes one piece of a stream (unless the client left), counting it, then waits the reply's chunk delay. */
  protected async write(res: ServerResponse, request: FakeChatRequest, reply: ScriptedReply, text: string) {
    if (res.destroyed) return;
    res.write(text);
    request.chunksSent++;
    if (reply.cutAfterChunks !== undefined && request.chunksSent >= reply.cutAfterChunks) {
      res.destroy();
      return;
    }
    if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** An assistant turn in OpenAI's shape, for the recorded requests. */
export function assistantMessage(
  content: string,
  calls: Array<{ id: string; name: string; args: unknown }>,
): FakeChatMessage {
  return {
    role: 'assistant',
    content,
    ...(calls.length
      ? {
          tool_calls: calls.map((c) => ({
            id: c.id,
            type: 'function',
            function: { name: c.name, arguments: JSON.stringify(c.args) },
          })),
        }
      : {}),
  };
}
