import { AppException } from '../errors/app.exception.js';

export type LlmErrorCode =
  'feature_not_configured' | 'provider_unavailable' | 'provider_timeout' | 'request_cancelled';

/** A model call that could not produce an answer; the message names the model and status, never the prompt. */
export class LlmException extends AppException<LlmErrorCode> {}

export const llmNotConfigured = () =>
  new LlmException(
    'feature_not_configured',
    'Chat needs a model endpoint: set OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible ' +
      'server such as Azure, Ollama, vLLM or a LiteLLM proxy), or name another provider in LLM_MODEL ' +
      '(anthropic:, google-genai:, ollama:) with its key.',
  );
