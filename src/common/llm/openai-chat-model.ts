import { Injectable } from '@nestjs/common';
import { AIMessage, AIMessageChunk, type BaseMessage } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../../config/app-config.js';
import { type ChatCallOptions, ChatModel, type ChatModelRole, type ChatStreamEvent } from './chat-model.js';
import { CallBill, providerFetch, reachedProvider } from './call-billing.js';
import type { MeterReservation } from './llm-meter.js';
import { estimatePromptTokens } from './tokens.js';
import { LlmException, llmNotConfigured } from './llm.errors.js';

/** First retry after ~250 ms, then ~500 ms, ~1 s…; a provider's Retry-After is honoured up to 10 s. */
const BACKOFF_BASE_MS = 250;
const MAX_RETRY_AFTER_MS = 10_000;

/**
 * The chat-model port on LangChain's `ChatOpenAI` (Chat Completions API), for
 * OpenAI or any OpenAI-compatible server at OPENAI_BASE_URL. LangChain's own
 * retries are off (`maxRetries: 0`): ours retry only 429, 5xx and dropped
 * connections, and only before a stream's first chunk, and tell a timeout
 * (504) from a cancellation (499) because each attempt owns its abort controller.
 * Every call that reached the provider is billed, whatever ends it (the rule
 * and its two exceptions are in call-billing.ts).
 */
@Injectable()
export class OpenAiChatModel extends ChatModel {
  private readonly clients?: Record<ChatModelRole, ChatOpenAI>;

  constructor(private readonly config: AppConfig) {
    super();
    const { apiKey, baseUrl, model, routerModel, timeoutMs, maxOutputTokens } = config.llm;
    if (!apiKey && !baseUrl) return;
    const client = (name: string) =>
      new ChatOpenAI({
        model: name,
        // A self-hosted endpoint (Ollama, vLLM) may need no key; the client insists on one.
        apiKey: apiKey ?? 'unused',
        // providerFetch marks a connection that could not be opened, which billing must tell apart.
        configuration: { ...(baseUrl ? { baseURL: baseUrl } : {}), fetch: providerFetch },
        temperature: 0,
        // The output side of a call's worst case, which the budget reserves.
        maxTokens: maxOutputTokens,
        maxRetries: 0,
        // Our own timer aborts first and reports 504; this only backs it up.
        timeout: timeoutMs + 5_000,
        streamUsage: true,
        useResponsesApi: false,
      });
    this.clients = { agent: client(model), router: client(routerModel) };
  }

  get configured(): boolean {
    return this.clients !== undefined;
  }

  modelFor(role: ChatModelRole): string {
    return role === 'router' ? this.config.llm.routerModel : this.config.llm.model;
  }

  async invoke(messages: BaseMessage[], options: ChatCallOptions): Promise<AIMessage> {
    const client = this.clientOrThrow(options.role);
    const reservation = await this.reserve(messages, options);
    const bill = new CallBill(reservation, messages, options.tools ?? []);
    try {
      for (let attempt = 0; ; attempt++) {
        // Never handed over: a caller already gone costs nothing.
        if (options.signal?.aborted) throw cancelled();
        const call = new CallSignal(this.config.llm.timeoutMs, options.signal);
        bill.startAttempt();
        try {
          const message = await client.invoke(messages, {
            signal: call.signal,
            ...(options.tools?.length ? { tools: options.tools } : {}),
          });
          this.report(options, message, false);
          await bill.completed(message);
          return message;
        } catch (err) {
          // Cut after sending (our timeout, a disconnect, a dropped connection): owed, retried or not.
          if (reachedProvider(err)) bill.cut();
          await this.retryOrThrow(err, call, attempt, options);
        } finally {
          call.dispose();
        }
      }
    } finally {
      // Settles what the cut attempts owe, or gives the hold back when none reached the provider.
      await bill.ended();
    }
  }

  async *stream(messages: BaseMessage[], options: ChatCallOptions): AsyncGenerator<ChatStreamEvent> {
    const client = this.clientOrThrow(options.role);
    const reservation = await this.reserve(messages, options);
    const bill = new CallBill(reservation, messages, options.tools ?? []);
    try {
      for (let attempt = 0; ; attempt++) {
        if (options.signal?.aborted) throw cancelled();
        const call = new CallSignal(this.config.llm.timeoutMs, options.signal);
        bill.startAttempt();
        const progress: StreamAttempt = { received: false };
        try {
          yield* this.streamAttempt(client, messages, options, { call, bill, progress });
          return;
        } catch (err) {
          if (!progress.received && !reachedProvider(err)) progress.outcome = 'not billed';
          // Tokens already went to the caller: a retry would repeat them.
          if (progress.received) throw this.mapError(err, call, attempt, options);
          await this.retryOrThrow(err, call, attempt, options);
        } finally {
          if (!progress.outcome) bill.cut();
          call.dispose();
        }
      }
    } finally {
      // Settles what the cut attempts owe (prompt and what was received), or gives the hold back.
      await bill.ended();
    }
  }

  /** One streamed attempt: relays its tokens, then bills and yields the whole message. */
  private async *streamAttempt(
    client: ChatOpenAI,
    messages: BaseMessage[],
    options: ChatCallOptions,
    { call, bill, progress }: { call: CallSignal; bill: CallBill; progress: StreamAttempt },
  ): AsyncGenerator<ChatStreamEvent> {
    const tools = options.tools?.length ? { tools: options.tools } : {};
    const chunks = await client.stream(messages, { signal: call.signal, ...tools });
    let full: AIMessageChunk | undefined;
    for await (const chunk of chunks) {
      progress.received = true;
      full = full ? full.concat(chunk) : chunk;
      const text = typeof chunk.content === 'string' ? chunk.content : '';
      // Tool-call deltas are output the provider bills too, though the caller sees no token.
      bill.receive(text + toolCallText(chunk));
      if (text) yield { type: 'token', text };
    }
    // An aborted stream may end quietly: make it an error like the rest.
    call.signal.throwIfAborted();
    const message = toMessage(full ?? new AIMessageChunk({ content: '' }));
    this.report(options, message, true);
    progress.outcome = 'completed';
    await bill.completed(message);
    yield { type: 'message', message };
  }

  /** Holds the call's worst case against the user's budget (402 when it cannot); none for calls of no user. */
  private async reserve(
    messages: BaseMessage[],
    options: ChatCallOptions,
  ): Promise<MeterReservation | undefined> {
    if (!this.meter || !options.userId || !options.tier) return undefined;
    const tools = options.tools ?? [];
    const toolText = tools.map((t) => `${t.name} ${t.description}`).join('\n');
    return this.meter.reserve({
      userId: options.userId,
      tier: options.tier,
      model: this.modelFor(options.role),
      kind: 'chat',
      // Each tool's JSON schema adds about a hundred tokens beyond its name and description.
      promptTokens: estimatePromptTokens(messages, toolText) + 120 * tools.length,
      maxOutputTokens: this.config.llm.maxOutputTokens,
    });
  }

  private clientOrThrow(role: ChatModelRole): ChatOpenAI {
    if (!this.clients) throw llmNotConfigured();
    return this.clients[role];
  }

  private report(options: ChatCallOptions, message: AIMessage, streamed: boolean): void {
    const usage = message.usage_metadata;
    if (!usage) return;
    this.reportUsage({
      userId: options.userId,
      role: options.role,
      model: this.modelFor(options.role),
      inputTokens: usage.input_tokens,
      outputTokens: usage.output_tokens,
      streamed,
    });
  }

  /** Waits before the next attempt when the failure is transient and attempts remain; throws otherwise. */
  private async retryOrThrow(
    err: unknown,
    call: CallSignal,
    attempt: number,
    options: ChatCallOptions,
  ): Promise<void> {
    const status = statusOf(err);
    const transient =
      !call.signal.aborted &&
      (status === 429 || (status !== undefined && status >= 500) || isConnectionError(err));
    if (!transient || attempt >= this.config.llm.maxRetries) throw this.mapError(err, call, attempt, options);
    const backoff = BACKOFF_BASE_MS * 2 ** attempt * (0.75 + Math.random() * 0.5);
    const delay = Math.max(backoff, Math.min(retryAfterMs(err) ?? 0, MAX_RETRY_AFTER_MS));
    try {
      await sleep(delay, undefined, { signal: options.signal });
    } catch {
      throw cancelled();
    }
  }

  private mapError(err: unknown, call: CallSignal, attempt: number, options: ChatCallOptions): Error {
    if (err instanceof LlmException) return err;
    const model = this.modelFor(options.role);
    if (options.signal?.aborted) return cancelled();
    if (call.timedOut || (err as { name?: unknown }).name === 'TimeoutError') {
      return new LlmException(
        'provider_timeout',
        `The model provider did not answer within ${this.config.llm.timeoutMs} ms (model ${model})`,
      );
    }
    const status = statusOf(err);
    const tries = attempt + 1;
    const after = tries > 1 ? ` after ${tries} attempts` : '';
    return new LlmException(
      'provider_unavailable',
      status !== undefined
        ? `The model provider answered ${status}${after} (model ${model})`
        : `The model provider could not be reached${after} (model ${model})`,
      {},
      { cause: err },
    );
  }
}

/** What one streamed attempt got to, read by its retry and billing decisions. */
interface StreamAttempt {
  /** A chunk arrived: tokens may have reached the caller, so no retry. */
  received: boolean;
  /** How the attempt ended, when that is known; none: cut after sending (an error, or the reader left). */
  outcome?: 'completed' | 'not billed';
}

/** One attempt's abort signal: the caller's signal or this attempt's time limit, whichever fires first. */
class CallSignal {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = () => this.controller.abort(this.outer?.reason);
  timedOut = false;

  constructor(
    timeoutMs: number,
    private readonly outer?: AbortSignal,
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error('timeout'));
    }, timeoutMs);
    if (outer?.aborted) this.onAbort();
    else outer?.addEventListener('abort', this.onAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onAbort);
  }
}

const cancelled = () => new LlmException('request_cancelled', 'The request was cancelled by the client');

function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** The OpenAI SDK's "could not connect / connection dropped" error (it carries no status). */
function isConnectionError(err: unknown): boolean {
  const name = (err as { constructor?: { name?: string } } | undefined)?.constructor?.name;
  return name === 'APIConnectionError';
}

function retryAfterMs(err: unknown): number | undefined {
  const headers = (err as { headers?: unknown } | undefined)?.headers;
  const get = (name: string): string | null | undefined =>
    headers instanceof Headers
      ? headers.get(name)
      : ((headers as Record<string, string> | undefined)?.[name] ?? undefined);
  const ms = Number(get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const seconds = Number(get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** The concatenated stream as the AIMessage an `invoke` would have returned (tool calls parsed). */
function toMessage(chunk: AIMessageChunk): AIMessage {
  return new AIMessage({
    content: chunk.content,
    tool_calls: chunk.tool_calls ?? [],
    invalid_tool_calls: chunk.invalid_tool_calls ?? [],
    usage_metadata: chunk.usage_metadata,
    response_metadata: chunk.response_metadata,
    id: chunk.id,
  });
}

/** A chunk's tool-call deltas (names and argument pieces): received output, billed like text. */
function toolCallText(chunk: AIMessageChunk): string {
  return (chunk.tool_call_chunks ?? []).map((c) => (c.name ?? '') + (c.args ?? '')).join('');
}
