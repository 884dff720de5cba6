import { Injectable, Logger } from '@nestjs/common';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { AIMessage, AIMessageChunk, BaseMessage } from '@langchain/core/messages';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../../config/app-config.js';
import { providerConfigured } from '../../config/llm-config.js';
import { type ModelRef, parseModel } from '../../config/model-ref.js';
import { type ChatCallOptions, ChatModel, type ChatModelRole, type ChatStreamEvent } from './chat-model.js';
import { CallBill, reachedProvider } from './call-billing.js';
import type { MeterReservation } from './llm-meter.js';
import { estimatePromptTokens } from './tokens.js';
import { LlmException, llmNotConfigured } from './llm.errors.js';
import {
  CallSignal,
  forProvider,
  isConnectionError,
  retryAfterMs,
  statusOf,
  StreamUsage,
  withCallSignal,
} from './provider-calls.js';
import { clientParams, settleUnreadResponses } from './provider-clients.js';

/** First retry after ~250 ms, then ~500 ms, ~1 s…; a provider's Retry-After is honoured up to 10 s. */
const BACKOFF_BASE_MS = 250;
const MAX_RETRY_AFTER_MS = 10_000;

/** What one model's streamed call got to, read by its retry, fallback and billing decisions. */
interface StreamProgress {
  /** A chunk arrived: tokens may have reached the caller, so no retry and no fallback. */
  received: boolean;
  /** How the attempt ended, when that is known; none: cut after sending (an error, or the reader left). */
  outcome?: 'completed' | 'not billed';
  firstTokenAt?: number;
}

/**
 * The chat-model port for every provider (OpenAI or any OpenAI-compatible
 * server, Anthropic, Google Gemini, Ollama), each model built by LangChain's
 * `initChatModel` from its `provider:model` name with the provider's official
 * package. LangChain's own retries are off: ours retry only 429, 5xx and
 * dropped connections, only before a stream's first chunk, and tell a timeout
 * (504) from a cancellation (499) because each attempt owns its abort
 * controller. When a model fails that way before its first token, the next of
 * LLM_FALLBACK_MODELS gets the call, as a call of its own (reserved, billed
 * and counted at its own price and labels). Every attempt that reached a
 * provider is billed, whatever ends it (call-billing.ts).
 */
@Injectable()
export class ProviderChatModel extends ChatModel {
  private readonly logger = new Logger('ChatModel');
  /** One client per model id, built on first use (initChatModel loads the provider's package). */
  private readonly clients = new Map<string, Promise<BaseChatModel>>();

  constructor(private readonly config: AppConfig) {
    super();
  }

  get configured(): boolean {
    const models = this.config.llm.models;
    return providerConfigured(models, models.agent.provider);
  }

  modelFor(role: ChatModelRole): string {
    return this.primary(role).label;
  }

  override async contextWindow(model: string): Promise<number | undefined> {
    if (!this.configured) return undefined;
    try {
      const window = (await this.client(parseModel(model))).profile?.maxInputTokens;
      return typeof window === 'number' ? window : undefined;
    } catch {
      return undefined;
    }
  }

  async invoke(messages: BaseMessage[], options: ChatCallOptions): Promise<AIMessage> {
    const chain = this.chain(options);
    for (let i = 0; ; i++) {
      try {
        return await this.invokeModel(chain[i], messages, options);
      } catch (err) {
        if (!this.fallsBack(err, chain, i, options)) throw err;
      }
    }
  }

  async *stream(messages: BaseMessage[], options: ChatCallOptions): AsyncGenerator<ChatStreamEvent> {
    const chain = this.chain(options);
    for (let i = 0; ; i++) {
      const progress: StreamProgress = { received: false };
      try {
        yield* this.streamModel(chain[i], messages, options, progress);
        return;
      } catch (err) {
        // Tokens already went to the caller: another model would start the answer over.
        if (progress.received || !this.fallsBack(err, chain, i, options)) throw err;
      }
    }
  }

  /** The role's model (the client's choice for agent calls), then the fallbacks not already in it. */
  private chain(options: ChatCallOptions): ModelRef[] {
    if (!this.configured) throw llmNotConfigured();
    const first =
      options.role === 'agent' && options.model ? parseModel(options.model) : this.primary(options.role);
    return [first, ...this.config.llm.models.fallbacks.filter((m) => m.id !== first.id)];
  }

  private primary(role: ChatModelRole): ModelRef {
    return role === 'router' ? this.config.llm.models.router : this.config.llm.models.agent;
  }

  /** Whether the next model gets the call: only after a provider failure or a timeout, and while one remains. */
  private fallsBack(err: unknown, chain: ModelRef[], index: number, options: ChatCallOptions): boolean {
    if (index + 1 >= chain.length || options.signal?.aborted) return false;
    if (!(err instanceof LlmException)) return false;
    const code = err.appCode;
    if (code === 'provider_timeout' || (code === 'provider_unavailable' && transient(err.cause))) {
      this.logger.warn(`${chain[index].id} failed (${code}); falling back to ${chain[index + 1].id}`);
      return true;
    }
    return false;
  }

  private client(model: ModelRef): Promise<BaseChatModel> {
    let client = this.clients.get(model.id);
    if (!client) {
      client = build(model, this.config.llm);
      // A failed build (a package that would not load) is not kept: the next call tries again.
      client.catch(() => this.clients.delete(model.id));
      this.clients.set(model.id, client);
    }
    return client;
  }

  /** One model's call: its own reservation and bill, its attempts and retries. */
  private async invokeModel(
    model: ModelRef,
    messages: BaseMessage[],
    options: ChatCallOptions,
  ): Promise<AIMessage> {
    const client = await this.client(model);
    const sent = await forProvider(messages, model.provider);
    const started = performance.now();
    const reservation = await this.reserveOrRecord(model, messages, options, started);
    const bill = new CallBill(reservation, messages, options.tools ?? []);
    try {
      for (let attempt = 0; ; attempt++) {
        // Never handed over: a caller already gone costs nothing.
        if (options.signal?.aborted) throw cancelled();
        const call = new CallSignal(this.config.llm.timeoutMs, options.signal);
        bill.startAttempt();
        try {
          const message = await withCallSignal(call.signal, () =>
            client.invoke(sent, callOptions(model, call, options)),
          );
          this.report(model, options, message, false);
          await bill.completed(message);
          this.record(model, 'ok', started);
          return message;
        } catch (err) {
          // Cut after sending (our timeout, a disconnect, a dropped connection): owed, retried or not.
          if (reachedProvider(err)) bill.cut();
          await this.retryOrThrow(err, call, attempt, model, options);
        } finally {
          call.dispose();
        }
      }
    } catch (err) {
      this.record(model, outcomeOf(err), started);
      throw err;
    } finally {
      // Settles what the cut attempts owe, or gives the hold back when none reached the provider.
      await bill.ended();
    }
  }

  private async *streamModel(
    model: ModelRef,
    messages: BaseMessage[],
    options: ChatCallOptions,
    progress: StreamProgress,
  ): AsyncGenerator<ChatStreamEvent> {
    const client = await this.client(model);
    const started = performance.now();
    const reservation = await this.reserveOrRecord(model, messages, options, started);
    const bill = new CallBill(reservation, messages, options.tools ?? []);
    let outcome = 'cancelled';
    try {
      for (let attempt = 0; ; attempt++) {
        if (options.signal?.aborted) throw cancelled();
        const call = new CallSignal(this.config.llm.timeoutMs, options.signal);
        bill.startAttempt();
        progress.outcome = undefined;
        try {
          yield* this.streamAttempt(client, model, messages, options, { call, bill, progress });
          outcome = 'ok';
          return;
        } catch (err) {
          if (!progress.received && !reachedProvider(err)) progress.outcome = 'not billed';
          // Tokens already went to the caller: a retry would repeat them.
          if (progress.received) throw this.mapError(err, call, attempt, model, options);
          await this.retryOrThrow(err, call, attempt, model, options);
        } finally {
          if (!progress.outcome) bill.cut();
          call.dispose();
        }
      }
    } catch (err) {
      outcome = outcomeOf(err);
      throw err;
    } finally {
      this.record(model, outcome, started, progress.firstTokenAt);
      // Settles what the cut attempts owe (prompt and what was received), or gives the hold back.
      await bill.ended();
    }
  }

  /** One streamed attempt: relays its tokens, then bills and yields the whole message. */
  private async *streamAttempt(
    client: BaseChatModel,
    model: ModelRef,
    messages: BaseMessage[],
    options: ChatCallOptions,
    { call, bill, progress }: { call: CallSignal; bill: CallBill; progress: StreamProgress },
  ): AsyncGenerator<ChatStreamEvent> {
    const sent = await forProvider(messages, model.provider);
    const chunks = await withCallSignal(call.signal, () =>
      client.stream(sent, callOptions(model, call, options)),
    );
    let full: AIMessageChunk | undefined;
    const usage = new StreamUsage(model.provider);
    for await (const chunk of chunks) {
      progress.received = true;
      usage.see(chunk);
      full = full ? full.concat(chunk) : chunk;
      const text = textOfChunk(chunk);
      // Tool-call deltas are output the provider bills too, though the caller sees no token.
      bill.receive(text + toolCallText(chunk));
      if (text) {
        progress.firstTokenAt ??= performance.now();
        yield { type: 'token', text };
      }
    }
    // An aborted stream may end quietly: make it an error like the rest.
    call.signal.throwIfAborted();
    const message = await toMessage(full);
    usage.correct(message);
    this.report(model, options, message, true);
    progress.outcome = 'completed';
    await bill.completed(message);
    yield { type: 'message', message };
  }

  /** The reservation; a refusal (402) is counted as this model's call, ended before it started. */
  private async reserveOrRecord(
    model: ModelRef,
    messages: BaseMessage[],
    options: ChatCallOptions,
    started: number,
  ): Promise<MeterReservation | undefined> {
    try {
      return await this.reserve(model, messages, options);
    } catch (err) {
      this.record(model, outcomeOf(err), started);
      throw err;
    }
  }

  /** Holds the call's worst case at this model's price (402 when it cannot); none for calls of no user. */
  private async reserve(
    model: ModelRef,
    messages: BaseMessage[],
    options: ChatCallOptions,
  ): Promise<MeterReservation | undefined> {
    if (!this.meter || !options.userId || !options.tier) return undefined;
    const tools = options.tools ?? [];
    const toolText = tools.map((t) => `${t.name} ${t.description}`).join('\n');
    return this.meter.reserve({
      userId: options.userId,
      tier: options.tier,
      model: model.label,
      kind: 'chat',
      // Each tool's JSON schema adds about a hundred tokens beyond its name and description.
      promptTokens: estimatePromptTokens(messages, toolText) + 120 * tools.length,
      maxOutputTokens: this.config.llm.maxOutputTokens,
    });
  }

  private report(model: ModelRef, options: ChatCallOptions, message: AIMessage, streamed: boolean): void {
    const usage = message.usage_metadata;
    if (!usage) return;
    this.reportUsage({
      userId: options.userId,
      role: options.role,
      provider: model.provider,
      model: model.label,
      inputTokens: usage.input_tokens ?? 0,
      outputTokens: usage.output_tokens ?? 0,
      streamed,
    });
  }

  private record(model: ModelRef, outcome: string, started: number, firstTokenAt?: number): void {
    this.reportCall({
      provider: model.provider,
      model: model.label,
      outcome,
      seconds: (performance.now() - started) / 1000,
      ...(firstTokenAt !== undefined ? { firstTokenSeconds: (firstTokenAt - started) / 1000 } : {}),
    });
  }

  /** Waits before the next attempt when the failure is transient and attempts remain; throws otherwise. */
  private async retryOrThrow(
    err: unknown,
    call: CallSignal,
    attempt: number,
    model: ModelRef,
    options: ChatCallOptions,
  ): Promise<void> {
    if (call.signal.aborted || !transient(err) || attempt >= this.config.llm.maxRetries) {
      throw this.mapError(err, call, attempt, model, options);
    }
    const backoff = BACKOFF_BASE_MS * 2 ** attempt * (0.75 + Math.random() * 0.5);
    const delay = Math.max(backoff, Math.min(retryAfterMs(err) ?? 0, MAX_RETRY_AFTER_MS));
    try {
      await sleep(delay, undefined, { signal: options.signal });
    } catch {
      throw cancelled();
    }
  }

  private mapError(
    err: unknown,
    call: CallSignal,
    attempt: number,
    model: ModelRef,
    options: ChatCallOptions,
  ): Error {
    if (err instanceof LlmException) return err;
    if (options.signal?.aborted) return cancelled();
    if (call.timedOut || (err as { name?: unknown }).name === 'TimeoutError') {
      return new LlmException(
        'provider_timeout',
        `The model provider did not answer within ${this.config.llm.timeoutMs} ms (model ${model.label})`,
      );
    }
    const status = statusOf(err);
    const tries = attempt + 1;
    const after = tries > 1 ? ` after ${tries} attempts` : '';
    return new LlmException(
      'provider_unavailable',
      status !== undefined
        ? `The model provider answered ${status}${after} (model ${model.label})`
        : `The model provider could not be reached${after} (model ${model.label})`,
      {},
      { cause: err },
    );
  }
}

/**
 * The model `initChatModel` builds for a name (it loads the provider's package). The calls go to
 * that model itself: the configurable wrapper would build another one for every distinct set of
 * call options.
 */
async function build(model: ModelRef, llm: AppConfig['llm']): Promise<BaseChatModel> {
  // LangChain is loaded by the first model built, not at start (most of an idle server's modules).
  const { initChatModel } = await import('langchain/chat_models/universal');
  const configurable = await initChatModel(model.id, clientParams(model, llm));
  const built = await configurable._getModelInstance();
  settleUnreadResponses(built);
  return built;
}

/** A failure worth another attempt or another model: 429, 5xx, or a connection that failed or dropped. */
function transient(err: unknown): boolean {
  const status = statusOf(err);
  return (
    status === 429 ||
    (status !== undefined && status >= 500) ||
    (status === undefined && isConnectionError(err))
  );
}

/**
 * The call's options as LangChain takes them: the tools, and the attempt's abort signal, except
 * for Ollama, whose client answers an aborted call by aborting every stream it has open (every
 * user's); its requests are aborted through their fetch instead (withCallSignal).
 */
function callOptions(model: ModelRef, call: CallSignal, options: ChatCallOptions) {
  return {
    ...(model.provider === 'ollama' ? {} : { signal: call.signal }),
    ...(options.tools?.length ? { tools: options.tools } : {}),
  };
}

const cancelled = () => new LlmException('request_cancelled', 'The request was cancelled by the client');

/** The outcome label of a failed call: its error code. */
const outcomeOf = (err: unknown) =>
  err instanceof LlmException ? err.appCode : ((err as { appCode?: string }).appCode ?? 'error');

/** A chunk's text: a string, or the text parts of a content array (Anthropic and Gemini send parts). */
function textOfChunk(chunk: AIMessageChunk): string {
  if (typeof chunk.content === 'string') return chunk.content;
  return chunk.content
    .map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : ''))
    .join('');
}

/** The concatenated stream (none: nothing arrived) as the AIMessage an `invoke` would have returned. */
async function toMessage(chunk: AIMessageChunk | undefined): Promise<AIMessage> {
  const { AIMessage } = await import('@langchain/core/messages');
  return new AIMessage({
    content: chunk?.content ?? '',
    tool_calls: chunk?.tool_calls ?? [],
    invalid_tool_calls: chunk?.invalid_tool_calls ?? [],
    usage_metadata: chunk?.usage_metadata,
    response_metadata: chunk?.response_metadata ?? {},
    id: chunk?.id,
  });
}

/** A chunk's tool-call deltas (names and argument pieces): received output, billed like text. */
function toolCallText(chunk: AIMessageChunk): string {
  return (chunk.tool_call_chunks ?? []).map((c) => (c.name ?? '') + (c.args ?? '')).join('');
}
