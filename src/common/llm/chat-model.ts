import { Logger } from '@nestjs/common';
import type { AIMessage, BaseMessage } from '@langchain/core/messages';
import type { StructuredToolInterface } from '@langchain/core/tools';
import type { Tier } from '../tiers/tiers.js';
import type { LlmMeter } from './llm-meter.js';

/** Which configured model a call uses: LLM_MODEL for agents and synthesis, LLM_ROUTER_MODEL for routing. */
export type ChatModelRole = 'agent' | 'router';

export interface ChatCallOptions {
  role: ChatModelRole;
  /** Tools the model may call in this turn (none: a plain answer). */
  tools?: StructuredToolInterface[];
  /** Cancels the call, down to the HTTP request (client gone, caller gave up). */
  signal?: AbortSignal;
  /** Whose call it is, for usage accounting and the budget. */
  userId?: string;
  /** The caller's tier, read for this request (whose budget applies). */
  tier?: Tier;
}

/** One model call's token usage, as the provider reported it. */
export interface ChatUsage {
  userId?: string;
  role: ChatModelRole;
  model: string;
  inputTokens: number;
  outputTokens: number;
  streamed: boolean;
}

export type ChatUsageListener = (usage: ChatUsage) => void;

/** What a streaming call yields: each text token as it arrives, then the complete message (with tool calls). */
export type ChatStreamEvent = { type: 'token'; text: string } | { type: 'message'; message: AIMessage };

/**
 * The chat-model port: one completion (`invoke`) or one streamed completion
 * (`stream`) with optional tools. Implementations retry 429/5xx with backoff,
 * enforce LLM_TIMEOUT_MS, pass the abort signal to the HTTP request, report
 * every call's token usage to the listeners, and raise AppExceptions:
 * `feature_not_configured` (503), `provider_unavailable` (502),
 * `provider_timeout` (504), `request_cancelled` (499). Messages are used for
 * the call only: never stored, never logged.
 */
export abstract class ChatModel {
  private readonly usageListeners = new Set<ChatUsageListener>();
  private readonly usageLogger = new Logger('ChatModel');
  /** Reserves each user's call against their budget and records it (the usage module sets it). */
  protected meter: LlmMeter | undefined;

  useMeter(meter: LlmMeter): void {
    this.meter = meter;
  }

  /** False when neither OPENAI_API_KEY nor OPENAI_BASE_URL is set (every call then answers 503). */
  abstract get configured(): boolean;

  /** The model name a role maps to. */
  abstract modelFor(role: ChatModelRole): string;

  abstract invoke(messages: BaseMessage[], options: ChatCallOptions): Promise<AIMessage>;

  abstract stream(messages: BaseMessage[], options: ChatCallOptions): AsyncGenerator<ChatStreamEvent>;

  /** Called after every model call that reported usage (the usage module records and prices it). */
  onUsage(listener: ChatUsageListener): () => void {
    this.usageListeners.add(listener);
    return () => this.usageListeners.delete(listener);
  }

  protected reportUsage(usage: ChatUsage): void {
    for (const listener of this.usageListeners) {
      try {
        listener(usage);
      } catch (err) {
        this.usageLogger.warn(`A usage listener failed: ${(err as Error).message}`);
      }
    }
  }
}
