/*
 * Model names as operators write them: `provider:model` (`anthropic:claude-sonnet-4-5`,
 * `google-genai:gemini-2.5-flash`, `ollama:llama3.1`, `openai:gpt-4o`), or a bare name, which
 * means OpenAI so that a configuration written before providers existed keeps its meaning.
 */

/** The providers the server can call; each has its official LangChain package installed. */
export const CHAT_PROVIDERS = ['openai', 'anthropic', 'google-genai', 'ollama'] as const;
export type ChatProvider = (typeof CHAT_PROVIDERS)[number];

/**
 * Providers whose embeddings the server can use: OpenAI's protocol, which OpenAI-compatible
 * servers and Ollama (at `/v1/embeddings`) both speak. Anthropic has no embeddings API; Gemini's
 * embeddings are another protocol the server does not implement.
 */
export const EMBEDDING_PROVIDERS: readonly ChatProvider[] = ['openai', 'ollama'];

/** One model of one provider. */
export interface ModelRef {
  provider: ChatProvider;
  /** The provider's own name for it (`gpt-4o`, `claude-sonnet-4-5`). */
  name: string;
  /** `provider:name`: how prices, the allowed list and clients name it. */
  id: string;
  /**
   * What the usage ledger and the metrics' `model` label record: the bare name for OpenAI (as
   * before providers existed, so old and new rows of a day add up), `provider:name` otherwise.
   */
  label: string;
}

/** Why `spec` is no model name, or undefined when it is one. */
export function modelSpecProblem(spec: string): string | undefined {
  const colon = spec.indexOf(':');
  if (colon < 0) return spec.trim() ? undefined : 'is empty';
  const provider = spec.slice(0, colon);
  if (!(CHAT_PROVIDERS as readonly string[]).includes(provider)) {
    return `names provider "${provider}"; the providers are ${CHAT_PROVIDERS.join(', ')} (a bare name means openai)`;
  }
  return spec.slice(colon + 1).trim() ? undefined : `names no model after "${provider}:"`;
}

/** The model a valid spec names (check it with modelSpecProblem first). */
export function parseModel(spec: string): ModelRef {
  const trimmed = spec.trim();
  const colon = trimmed.indexOf(':');
  const provider = (colon < 0 ? 'openai' : trimmed.slice(0, colon)) as ChatProvider;
  const name = colon < 0 ? trimmed : trimmed.slice(colon + 1).trim();
  return {
    provider,
    name,
    id: `${provider}:${name}`,
    label: provider === 'openai' ? name : `${provider}:${name}`,
  };
}

/** `gpt-4o` and `openai:gpt-4o` alike as `openai:gpt-4o`; anything else as it is. */
export function modelId(spec: string): string {
  return modelSpecProblem(spec) === undefined ? parseModel(spec).id : spec.trim();
}
