import type { AIMessage, BaseMessage } from '@langchain/core/messages';
import type { StructuredToolInterface } from '@langchain/core/tools';
import type { MeterReservation } from './llm-meter.js';
import { currentCallSignal, statusOf } from './provider-calls.js';
import { countPromptTokens, countTokens, estimatePromptTokens } from './tokens.js';

/*
 * The billing rule, for every model call made for a user:
 *
 *   An attempt that reached the provider is billed, whatever ended it: it
 *   completed, the client cancelled or went away, our LLM_TIMEOUT_MS cut it,
 *   the connection dropped, or it produced only tool calls. Without the
 *   provider's usage figures (they come last, so a cut call never has them),
 *   the prompt is counted with the tokenizer as it was sent and the
 *   completion from what was received (text and tool-call names and
 *   arguments), and the ledger row is flagged `estimated`.
 *
 *   Not billed: an attempt that provably never reached the provider (we did
 *   not hand it over because the caller was already gone, or the connection
 *   was refused or could not be opened, so nothing was sent), and an attempt
 *   the provider refused with an error status (429, 5xx, 4xx: nothing
 *   generated, nothing billed by the provider). Retried attempts answered
 *   429/5xx therefore cost nothing.
 *
 * Anything else that is ambiguous (a connection reset after sending, an abort
 * while the request was being written) is billed: the provider may have
 * started, and an unbilled call is model spend past any budget.
 */

/** Connection errors raised before a byte of the request left: the provider saw nothing. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** A request that could not be sent at all (refused or unreachable connection). */
export class ProviderNotReachedError extends Error {
  constructor(readonly code: string) {
    // No "timeout" in the text: the OpenAI client would make it a timeout and drop this error.
    super(`The model provider could not be connected to (${code}); nothing was sent`);
    this.name = 'ProviderNotReachedError';
  }
}

/**
 * `fetch` for the providers' clients (all but Gemini's, which takes none): a
 * failure to open the connection is raised as ProviderNotReachedError (the
 * client keeps it as the cause of its connection error), so billing can tell
 * "never sent" from "cut after sending". The current attempt's signal aborts
 * the request too, for a client that takes no signal per call (Ollama's).
 */
export const providerFetch: typeof fetch = async (input, init) => {
  const attempt = currentCallSignal();
  const signal =
    attempt && init?.signal ? AbortSignal.any([attempt, init.signal]) : (attempt ?? init?.signal);
  try {
    return await fetch(input, { ...init, ...(signal ? { signal } : {}) });
  } catch (err) {
    const code = notSentCode(err);
    throw code ? new ProviderNotReachedError(code) : err;
  }
};

/** undici's `fetch failed` carries the socket error as its cause (an AggregateError when it tried several addresses). */
function notSentCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown; errors?: Array<{ code?: unknown }> } } | undefined)
    ?.cause;
  const codes = cause?.errors?.length ? cause.errors.map((e) => e?.code) : [cause?.code];
  if (codes.some((c) => typeof c !== 'string' || !NOT_SENT_CODES.has(c))) return undefined;
  return codes[0] as string;
}

/** Whether a failed attempt may have been billed by the provider (see the rule above). */
export function reachedProvider(err: unknown): boolean {
  // The provider answered an error status: it refused the request and bills nothing.
  if (statusOf(err) !== undefined) return false;
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (e instanceof ProviderNotReachedError) return false;
    e = (e as { cause?: unknown }).cause;
  }
  return true;
}

/**
 * One model call's bill, across its attempts: the prompt as sent (kept to be
 * counted only if the provider's figures never come), the attempts that
 * reached the provider without them, and what the provider sent back so far.
 * Ends by settling the reservation with what is owed, or releasing it when no
 * attempt reached the provider.
 */
export class CallBill {
  /** Attempts that reached the provider and ended without its usage figures. */
  private cutAttempts = 0;
  /** Text, tool-call names and arguments received in the current attempt. */
  private received = '';
  private closed = false;

  /** The prompt as sent (the caller may append to its array afterwards). */
  private readonly messages: BaseMessage[];

  constructor(
    private readonly reservation: MeterReservation | undefined,
    messages: BaseMessage[],
    private readonly tools: StructuredToolInterface[],
  ) {
    this.messages = [...messages];
  }

  /** A new attempt starts: what an earlier one received is no longer the answer. */
  startAttempt(): void {
    this.received = '';
  }

  /** Part of the answer arrived (text, or a tool call's name or argument delta). */
  receive(piece: string): void {
    this.received += piece;
  }

  /** Whether anything of the answer arrived in this attempt. */
  get receivedAny(): boolean {
    return this.received.length > 0;
  }

  /** The current attempt ended without the provider's figures, after reaching it: it is owed. */
  cut(): void {
    this.cutAttempts++;
  }

  /**
   * The call completed with `message`: the provider's figures when it sent
   * them, else our count of the prompt and of the message; plus the prompts
   * of earlier attempts that were cut after sending.
   */
  async completed(message: AIMessage): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const usage = message.usage_metadata;
    const earlier = this.cutAttempts ? (await this.promptTokens()) * this.cutAttempts : 0;
    if (usage) {
      // A count of zero may arrive as an absent field.
      return this.reservation?.settle({
        promptTokens: (usage.input_tokens ?? 0) + earlier,
        completionTokens: usage.output_tokens ?? 0,
        estimated: this.cutAttempts > 0,
      });
    }
    const text = typeof message.content === 'string' ? message.content : JSON.stringify(message.content);
    const calls = message.tool_calls?.length ? JSON.stringify(message.tool_calls) : '';
    const [prompt, completion] = await Promise.all([this.promptTokens(), this.outputTokens(text + calls)]);
    await this.reservation?.settle({
      promptTokens: prompt + earlier,
      completionTokens: completion,
      estimated: true,
    });
  }

  /**
   * The call ended without an answer (failed, cancelled, timed out, or its
   * reader stopped): the attempts that reached the provider are settled as an
   * estimate; when none did, the reservation is given back.
   */
  async ended(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.reservation) return;
    if (this.cutAttempts === 0) return this.reservation.release();
    const [prompt, completion] = await Promise.all([
      this.promptTokens(),
      this.received ? this.outputTokens(this.received) : Promise.resolve(0),
    ]);
    await this.reservation.settle({
      promptTokens: prompt * this.cutAttempts,
      completionTokens: completion,
      estimated: true,
    });
  }

  /** The prompt as sent, with the tokenizer: messages, their tool calls, and the tools' definitions. */
  private async promptTokens(): Promise<number> {
    const { convertToOpenAITool } = await import('@langchain/core/utils/function_calling');
    const messages = this.messages;
    const tools = this.tools.length ? JSON.stringify(this.tools.map((t) => convertToOpenAITool(t))) : '';
    return tokensOr(countPromptTokens(messages, tools), () => estimatePromptTokens(messages, tools));
  }

  private outputTokens(text: string): Promise<number> {
    return tokensOr(countTokens([text]), () => estimatePromptTokens([], text));
  }
}

/** The tokenizer's count, or (its worker failed) the byte estimate: a call is recorded either way. */
async function tokensOr(count: Promise<number>, estimate: () => number): Promise<number> {
  try {
    return await count;
  } catch {
    return estimate();
  }
}
