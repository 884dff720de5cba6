import type { BaseMessage } from '@langchain/core/messages';
import { parseModel } from '../../config/model-ref.js';
import { AppException } from '../errors/app.exception.js';
import type { ChatCallOptions, ChatModel, ChatStreamEvent } from '../llm/chat-model.js';
import type { Embeddings } from '../llm/embeddings.js';
import type { AppMetrics } from './app-metrics.js';

const seconds = (since: number) => (performance.now() - since) / 1000;

/** An error's code for the outcome label: one of the app's error codes, or `error`. */
const outcomeOf = (err: unknown) => (err instanceof AppException ? err.appCode : 'error');

/**
 * Counts, times and sorts by outcome every model call, labelled by provider and
 * model: each model's part of a call as the port reports it (a fallback
 * model's part is counted under its own labels), and its tokens from the
 * port's usage listeners. Model names are the configured ones (LLM_MODEL,
 * LLM_ROUTER_MODEL, the fallbacks and the allowed list), a bounded set.
 */
export function observeChatModel(model: ChatModel, metrics: AppMetrics): void {
  const stream = model.stream.bind(model);
  model.stream = (messages: BaseMessage[], options: ChatCallOptions) =>
    countedStream(stream(messages, options), metrics);
  model.onCall((call) => {
    const labels = { provider: call.provider, model: parseModel(call.model).name };
    metrics.llmCalls.inc({ ...labels, kind: 'chat', outcome: call.outcome });
    metrics.llmDuration.observe({ ...labels, kind: 'chat' }, call.seconds);
    if (call.firstTokenSeconds !== undefined) metrics.llmFirstToken.observe(labels, call.firstTokenSeconds);
  });
  model.onUsage((usage) => {
    const labels = { provider: usage.provider, model: parseModel(usage.model).name };
    metrics.llmTokens.inc({ ...labels, direction: 'in' }, usage.inputTokens);
    metrics.llmTokens.inc({ ...labels, direction: 'out' }, usage.outputTokens);
  });
}

/** The streams open right now (a gauge). */
async function* countedStream(
  inner: AsyncGenerator<ChatStreamEvent>,
  metrics: AppMetrics,
): AsyncGenerator<ChatStreamEvent> {
  metrics.chatStreams.inc();
  try {
    yield* inner;
  } finally {
    metrics.chatStreams.dec();
  }
}

/** Times and counts the embedding calls. */
export function observeEmbeddings(embeddings: Embeddings, model: string, metrics: AppMetrics): void {
  const { provider, name } = parseModel(model);
  const embed = embeddings.embed.bind(embeddings);
  embeddings.embed = async (...args: Parameters<Embeddings['embed']>) => {
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await embed(...args);
    } catch (err) {
      outcome = outcomeOf(err);
      throw err;
    } finally {
      metrics.llmCalls.inc({ provider, model: name, kind: 'embedding', outcome });
      metrics.llmDuration.observe({ provider, model: name, kind: 'embedding' }, seconds(started));
    }
  };
}
