import type { AIMessage, AIMessageChunk, BaseMessage } from '@langchain/core/messages';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ChatProvider } from '../../config/model-ref.js';

/*
 * What differs between the providers' clients when a call fails or is cut, in one place: where
 * the status is, what a dropped connection looks like, how a request is aborted, and which
 * messages a provider refuses.
 */

/** One attempt's abort signal: the caller's signal or this attempt's time limit, whichever fires first. */
export class CallSignal {
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

/** The attempt a request belongs to, for providerFetch (a client that takes no per-call signal). */
const attemptSignal = new AsyncLocalStorage<AbortSignal>();

/** Runs `start` (which sends the request) with the attempt's signal where providerFetch finds it. */
export function withCallSignal<T>(signal: AbortSignal, start: () => Promise<T>): Promise<T> {
  return attemptSignal.run(signal, start);
}

/** The signal a request made now must also obey (the current attempt's), if any. */
export function currentCallSignal(): AbortSignal | undefined {
  return attemptSignal.getStore();
}

/** The HTTP status of a provider's error: `status` (OpenAI, Anthropic, Gemini) or `status_code` (Ollama). */
export function statusOf(err: unknown): number | undefined {
  const e = err as { status?: unknown; status_code?: unknown } | undefined;
  const status = e?.status ?? e?.status_code;
  return typeof status === 'number' ? status : undefined;
}

/**
 * A connection that could not be made or dropped mid-way, as each client reports it: the
 * OpenAI and Anthropic SDKs' APIConnectionError, Gemini's "Error fetching from" (it keeps no
 * cause), and fetch's own TypeError or a stream cut short (Ollama reads fetch directly).
 */
export function isConnectionError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const name = (e as { constructor?: { name?: string } }).constructor?.name;
    const raw = (e as { message?: unknown }).message;
    const message = typeof raw === 'string' ? raw : '';
    if (name === 'APIConnectionError' || name === 'ProviderNotReachedError') return true;
    if (
      name === 'GoogleGenerativeAIError' &&
      /^Error (fetching from|reading from the stream)/.test(message)
    ) {
      return true;
    }
    if (name === 'TypeError' && /fetch failed|terminated/.test(message)) return true;
    if ((e as { code?: unknown }).code === 'UND_ERR_SOCKET' || message === 'terminated') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export function retryAfterMs(err: unknown): number | undefined {
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

/**
 * The messages as `provider` takes them. Anthropic and Gemini accept a system prompt only
 * before the conversation (Gemini's client refuses a later one; Anthropic's API has no system
 * role in its messages), so a system note added mid-turn (the tool cap's) goes as the user's
 * words there; OpenAI and Ollama take it where it is.
 */
export async function forProvider(messages: BaseMessage[], provider: ChatProvider): Promise<BaseMessage[]> {
  if (provider === 'openai' || provider === 'ollama') return messages;
  const { HumanMessage, SystemMessage } = await import('@langchain/core/messages');
  return messages.map((m, i) =>
    i > 0 && SystemMessage.isInstance(m) ? new HumanMessage({ content: m.content }) : m,
  );
}

/**
 * A streamed answer's token usage, normalised: Anthropic's `message_start` carries a provisional
 * output count (1) and `message_delta` the final total, which LangChain adds up; the total is
 * what the provider bills. The other providers' streamed figures are right as LangChain sums them.
 */
export class StreamUsage {
  private finalOutput?: number;

  constructor(private readonly provider: ChatProvider) {}

  see(chunk: AIMessageChunk): void {
    const usage = chunk.usage_metadata;
    // message_delta: output only, and the total so far.
    if (this.provider === 'anthropic' && usage && !usage.input_tokens) this.finalOutput = usage.output_tokens;
  }

  correct(message: AIMessage): void {
    const usage = message.usage_metadata;
    if (!usage || this.finalOutput === undefined) return;
    message.usage_metadata = {
      ...usage,
      output_tokens: this.finalOutput,
      total_tokens: usage.input_tokens + this.finalOutput,
    };
  }
}
