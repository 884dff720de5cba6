import { Logger } from '@nestjs/common';
import type { AIMessage, BaseMessage } from '@langchain/core/messages';
import type { StructuredToolInterface } from '@langchain/core/tools';
import type { ChatProvider } from '../../config/model-ref.js';
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
  /**
   * The model the client chose (`provider:model`, already checked against LLM_MODELS_ALLOWED and
   * the tier) for an `agent` call; the router always uses LLM_ROUTER_MODEL.
   */
  model?: string;
}

/** One model call's token usage, as the provider reported it (normalised to input and output tokens). */
export interface ChatUsage {
  userId?: string;
  role: ChatModelRole;
  provider: ChatProvider;
  /** The model's label: its bare name for OpenAI, `provider:model` otherwise. */
  model: string;
  inputTokens: number;
  outputTokens: number;
  streamed: boolean;
}

export type ChatUsageListener = (usage: ChatUsage) => void;

/** One model's part of a call (a fallback model's is its own), for the metrics: never any content. */
export interface ChatCallRecord {
  provider: ChatProvider;
  model: string;
  /** `ok`, or the error code it ended with (`provider_unavailable`, `provider_timeout`, …). */
  outcome: string;
  seconds: number;
  /** Streams: seconds to the first text token, when one came. */
  firstTokenSeconds?: number;
}

export type ChatCallListener = (call: ChatCallRecord) => void;

/** What a streaming call yields: each text token as it arrives, then the complete message (with tool calls). */
export type ChatStreamEvent = { type: 'token'; text: string } | { type: 'message'; message: AIMessage };

/**
 * The chat-model port: one completion (`invoke`) or one streamed completion
 * (`stream`) with optional tools, whichever provider serves it (the callers
 * never know). Implementations retry 429/5xx with backoff, fall back to other models,
 * enforce LLM_TIMEOUT_MS, pass the abort signal to the HTTP request, report
 * every call's token usage to the listeners, and raise AppExceptions:
 * `feature_not_configured` (503), `provider_unavailable` (502),
 * `provider_timeout` (504), `request_cancelled` (499). Messages are used for
 * the call only: never stored, never logged.
 */
export abstract class ChatModel {
  private readonly usageListeners = new Set<ChatUsageListener>();
  private readonly callListeners = new Set<ChatCallListener>();
  private readonly usageLogger = new Logger('ChatModel');
  /** Reserves each user's call against their budget and records it (the usage module sets it). */
  protected meter: LlmMeter | undefined;

  useMeter(meter: LlmMeter): void {
    this.meter = meter;
  }

  /** False when LLM_MODEL's provider has neither key nor endpoint set (every call then answers 503). */
  abstract get configured(): boolean;

  /** The label of the model a role maps to (LLM_MODEL or LLM_ROUTER_MODEL), before any fallback. */
  abstract modelFor(role: ChatModelRole): string;

  /** The most input tokens a model (`provider:model`) takes, when its LangChain package knows it. */
  contextWindow(_model: string): Promise<number | undefined> {
    return Promise.resolve(undefined);
  }

  abstract invoke(messages: BaseMessage[], options: ChatCallOptions): Promise<AIMessage>;

  abstract stream(messages: BaseMessage[], options: ChatCallOptions): AsyncGenerator<ChatStreamEvent>;

  /** Called after every model call that reported usage (the usage module records and prices it). */
  onUsage(listener: ChatUsageListener): () => void {
    this.usageListeners.add(listener);
    return () => this.usageListeners.delete(listener);
  }

  /** Called after each model's part of a call, however it ended (the metrics count them). */
  onCall(listener: ChatCallListener): () => void {
    this.callListeners.add(listener);
    return () => this.callListeners.delete(listener);
  }

  protected reportUsage(usage: ChatUsage): void {
    this.notify(this.usageListeners, usage);
  }

  protected reportCall(call: ChatCallRecord): void {
    this.notify(this.callListeners, call);
  }

  private notify<T>(listeners: Set<(value: T) => void>, value: T): void {
    for (const listener of listeners) {
      try {
        listener(value);
      } catch (err) {
        this.usageLogger.warn(`A model call listener failed: ${(err as Error).message}`);
      }
    }
  }
}
