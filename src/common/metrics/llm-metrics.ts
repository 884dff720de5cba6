import type { AIMessage, BaseMessage } from '@langchain/core/messages';
import { AppException } from '../errors/app.exception.js';
import type { ChatCallOptions, ChatModel, ChatStreamEvent } from '../llm/chat-model.js';
import type { Embeddings } from '../llm/embeddings.js';
import type { AppMetrics } from './app-metrics.js';

const seconds = (since: number) => (performance.now() - since) / 1000;

/** An error's code for the outcome label: one of the app's error codes, or `error`. */
const outcomeOf = (err: unknown) => (err instanceof AppException ? err.appCode : 'error');

/**
 * Counts, times and sorts by outcome every model call, wrapping the chat
 * model's `invoke` and `stream` at the port (the implementation is not
 * touched); tokens come from the port's own usage listeners. Model names are
 * the configured ones (LLM_MODEL, LLM_ROUTER_MODEL), a bounded set.
 */
export function observeChatModel(model: ChatModel, metrics: AppMetrics): void {
  const invoke = model.invoke.bind(model);
  const stream = model.stream.bind(model);
  model.invoke = async (messages: BaseMessage[], options: ChatCallOptions): Promise<AIMessage> => {
    const call = startCall(metrics, model.modelFor(options.role), 'chat');
    try {
      const message = await invoke(messages, options);
      call.end('ok');
      return message;
    } catch (err) {
      call.end(outcomeOf(err));
      throw err;
    }
  };
  model.stream = (messages: BaseMessage[], options: ChatCallOptions) =>
    observedStream(stream(messages, options), model.modelFor(options.role), metrics);
  model.onUsage((usage) => {
    metrics.llmTokens.inc({ model: usage.model, direction: 'in' }, usage.inputTokens);
    metrics.llmTokens.inc({ model: usage.model, direction: 'out' }, usage.outputTokens);
  });
}

async function* observedStream(
  inner: AsyncGenerator<ChatStreamEvent>,
  model: string,
  metrics: AppMetrics,
): AsyncGenerator<ChatStreamEvent> {
  const call = startCall(metrics, model, 'chat');
  metrics.chatStreams.inc();
  let outcome = 'cancelled';
  let first = true;
  try {
    for await (const event of inner) {
      if (first && event.type === 'token') {
        first = false;
        metrics.llmFirstToken.observe({ model }, seconds(call.started));
      }
      yield event;
    }
    outcome = 'ok';
  } catch (err) {
    outcome = outcomeOf(err);
    throw err;
  } finally {
    metrics.chatStreams.dec();
    call.end(outcome);
  }
}

/** Times and counts the embedding calls. */
export function observeEmbeddings(embeddings: Embeddings, model: string, metrics: AppMetrics): void {
  const embed = embeddings.embed.bind(embeddings);
  embeddings.embed = async (...args: Parameters<Embeddings['embed']>) => {
    const call = startCall(metrics, model, 'embedding');
    try {
      const vector = await embed(...args);
      call.end('ok');
      return vector;
    } catch (err) {
      call.end(outcomeOf(err));
      throw err;
    }
  };
}

function startCall(metrics: AppMetrics, model: string, kind: 'chat' | 'embedding') {
  const started = performance.now();
  return {
    started,
    end(outcome: string): void {
      metrics.llmCalls.inc({ model, kind, outcome });
      metrics.llmDuration.observe({ model, kind }, seconds(started));
    },
  };
}
