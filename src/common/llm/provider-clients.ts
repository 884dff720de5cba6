import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { AppConfig } from '../../config/app-config.js';
import type { ChatProvider, ModelRef } from '../../config/model-ref.js';
import { providerFetch } from './call-billing.js';

/** Ollama's own default address, when OLLAMA_BASE_URL is not set. */
export const OLLAMA_DEFAULT_URL = 'http://127.0.0.1:11434';

/**
 * What `initChatModel` gets for one model: the provider's key and endpoint from our validated
 * configuration (never the package's own reading of the environment), the same sampling and
 * output cap for every provider, and the packages' retries off (ours decide). Each package names
 * these settings its own way; the values are the same.
 */
export function clientParams(model: ModelRef, llm: AppConfig['llm']): Record<string, unknown> {
  const { apiKey, baseUrl } = llm.models.providers[model.provider];
  // Our own timer aborts first and reports 504; an SDK's timeout only backs it up.
  const settings: ClientSettings = {
    apiKey,
    baseUrl,
    maxTokens: llm.maxOutputTokens,
    backstopMs: llm.timeoutMs + 5_000,
  };
  return { temperature: 0, maxRetries: 0, ...PARAMS[model.provider](settings) };
}

interface ClientSettings {
  apiKey: string | undefined;
  baseUrl: string | undefined;
  maxTokens: number;
  backstopMs: number;
}

const PARAMS: Record<ChatProvider, (s: ClientSettings) => Record<string, unknown>> = {
  openai: (s) => ({
    // A self-hosted endpoint (vLLM, LiteLLM) may need no key; the client insists on one.
    apiKey: s.apiKey ?? 'unused',
    // providerFetch marks a connection that could not be opened, which billing must tell apart.
    configuration: { ...(s.baseUrl ? { baseURL: s.baseUrl } : {}), fetch: providerFetch },
    maxTokens: s.maxTokens,
    timeout: s.backstopMs,
    streamUsage: true,
    useResponsesApi: false,
  }),
  anthropic: (s) => ({
    apiKey: s.apiKey ?? 'unused',
    ...(s.baseUrl ? { anthropicApiUrl: s.baseUrl } : {}),
    clientOptions: { fetch: providerFetch, timeout: s.backstopMs },
    maxTokens: s.maxTokens,
    streamUsage: true,
  }),
  'google-genai': (s) => ({
    apiKey: s.apiKey ?? 'unused',
    ...(s.baseUrl ? { baseUrl: s.baseUrl } : {}),
    maxOutputTokens: s.maxTokens,
    // The package's non-streamed call drops the abort signal (a cancel or a timeout would not
    // stop it), so every Gemini call is streamed; `invoke` still returns the whole message.
    streaming: true,
    streamUsage: true,
  }),
  ollama: (s) => ({
    baseUrl: s.baseUrl ?? OLLAMA_DEFAULT_URL,
    // The request's only abort: the attempt's signal, merged in by providerFetch.
    fetch: providerFetch,
    numPredict: s.maxTokens,
    checkOrPullModel: false,
  }),
};

interface GeminiStreamClient {
  generateContentStream(...args: unknown[]): Promise<{ response: Promise<unknown> }>;
}

/**
 * Gemini's SDK answers a streamed call with the stream and a promise of the whole response read
 * from a copy of it. LangChain reads only the stream, so when a stream is cut (a cancel, a
 * timeout, a dropped connection) that promise rejects with nobody listening, and an unhandled
 * rejection ends the process. It is settled here; the stream's own error still reaches the call.
 */
export function settleUnreadResponses(model: BaseChatModel): void {
  const client = (model as unknown as { client?: Partial<GeminiStreamClient> }).client;
  const original = client?.generateContentStream?.bind(client);
  if (!client || !original) return;
  client.generateContentStream = async (...args: unknown[]) => {
    const result = await original(...args);
    result.response.catch(() => undefined);
    return result;
  };
}
