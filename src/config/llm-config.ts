import type { Env } from './env.schema.js';
import { DEFAULT_PRICES } from './model-prices.js';
import { type ChatProvider, EMBEDDING_PROVIDERS, type ModelRef, parseModel } from './model-ref.js';

/** One provider's key and endpoint (unset: the provider's own default endpoint). */
export interface ProviderEndpoint {
  apiKey: string | undefined;
  baseUrl: string | undefined;
}

/** The models the server calls, parsed; and every provider's key and endpoint. */
export interface LlmModels {
  agent: ModelRef;
  router: ModelRef;
  embeddings: ModelRef;
  /** LLM_FALLBACK_MODELS, in order. */
  fallbacks: ModelRef[];
  /** LLM_MODELS_ALLOWED with LLM_MODEL first, without repeats. */
  allowed: ModelRef[];
  providers: Record<ChatProvider, ProviderEndpoint>;
}

export function llmModels(env: Env): LlmModels {
  const agent = parseModel(env.LLM_MODEL);
  const allowed = [agent, ...env.LLM_MODELS_ALLOWED.map(parseModel)].filter(
    (m, i, all) => all.findIndex((o) => o.id === m.id) === i,
  );
  return {
    agent,
    router: parseModel(env.LLM_ROUTER_MODEL),
    embeddings: parseModel(env.EMBEDDINGS_MODEL),
    fallbacks: env.LLM_FALLBACK_MODELS.map(parseModel),
    allowed,
    providers: {
      openai: { apiKey: env.OPENAI_API_KEY, baseUrl: env.OPENAI_BASE_URL },
      anthropic: { apiKey: env.ANTHROPIC_API_KEY, baseUrl: env.ANTHROPIC_BASE_URL },
      'google-genai': { apiKey: env.GOOGLE_API_KEY, baseUrl: env.GOOGLE_BASE_URL },
      ollama: { apiKey: undefined, baseUrl: env.OLLAMA_BASE_URL },
    },
  };
}

/** What a provider needs before the server can call it (Ollama runs locally and needs nothing). */
const NEEDS: Record<ChatProvider, string> = {
  openai: 'OPENAI_API_KEY or OPENAI_BASE_URL',
  anthropic: 'ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for a proxy that holds the key)',
  'google-genai': 'GOOGLE_API_KEY (or GOOGLE_BASE_URL for a proxy that holds the key)',
  ollama: '',
};

/** A key, or an endpoint of its own (a self-hosted server or a proxy may need no key). */
export function providerConfigured(models: LlmModels, provider: ChatProvider): boolean {
  if (provider === 'ollama') return true;
  const { apiKey, baseUrl } = models.providers[provider];
  return apiKey !== undefined || baseUrl !== undefined;
}

/**
 * What the model settings get wrong together, each naming its variable: an embeddings model of
 * a provider without embeddings; once chat is configured (LLM_MODEL's provider can be called),
 * a router, fallback or allowed model whose provider cannot; and, with budgets on, a model
 * without a price (a budget that cannot price a call is no budget).
 */
export function llmConfigProblems(env: Env, prices: Record<string, [number, number]>): string[] {
  const models = llmModels(env);
  const problems: string[] = [];
  if (!EMBEDDING_PROVIDERS.includes(models.embeddings.provider)) {
    problems.push(
      `EMBEDDINGS_MODEL ${models.embeddings.id}: ${models.embeddings.provider} has no embeddings the server ` +
        `can use; embeddings come from ${EMBEDDING_PROVIDERS.join(' or ')} (OpenAI-compatible servers, Ollama)`,
    );
  }
  const named: Array<[string, ModelRef]> = [
    ['LLM_MODEL', models.agent],
    ['LLM_ROUTER_MODEL', models.router],
    ...models.fallbacks.map((m): [string, ModelRef] => ['LLM_FALLBACK_MODELS', m]),
    ...models.allowed.slice(1).map((m): [string, ModelRef] => ['LLM_MODELS_ALLOWED', m]),
  ];
  if (providerConfigured(models, models.agent.provider)) {
    for (const [variable, model] of named) {
      if (providerConfigured(models, model.provider)) continue;
      problems.push(`${variable} names ${model.id}, but ${NEEDS[model.provider]} is not set`);
    }
  }
  if (env.USAGE_METERING) {
    const priced = { ...DEFAULT_PRICES, ...prices };
    for (const [variable, model] of [
      ...named,
      ['EMBEDDINGS_MODEL', models.embeddings] as [string, ModelRef],
    ]) {
      if (priced[model.id]) continue;
      problems.push(
        `${variable} names ${model.id}, which has no price: add it to LLM_PRICES ` +
          `(e.g. {"${model.id}": [input, output]} in USD per million tokens; [0, 0] for a model that costs nothing)`,
      );
    }
  }
  return [...new Set(problems)];
}
