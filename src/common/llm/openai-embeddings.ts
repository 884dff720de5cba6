import { Injectable } from '@nestjs/common';
import type { ClientOptions, OpenAIEmbeddingsParams } from '@langchain/openai';
import { AppConfig } from '../../config/app-config.js';
import type { Tier } from '../tiers/tiers.js';
import { Embeddings } from './embeddings.js';
import { AppException } from '../errors/app.exception.js';
import { providerFetch, reachedProvider } from './call-billing.js';
import { countTokens, estimatePromptTokens } from './tokens.js';
import { OLLAMA_DEFAULT_URL } from './provider-clients.js';

interface EmbeddingsClient {
  embedWithUsage(text: string): Promise<{ vector: number[]; promptTokens: number | undefined }>;
}

/**
 * LangChain's client, with the provider's usage kept (embedQuery drops it). Built on the first
 * embedding: @langchain/openai and the OpenAI SDK (about a megabyte of code) are loaded then, not
 * at start (issue 38: an idle server need not hold them).
 */
async function buildClient(
  fields: Partial<OpenAIEmbeddingsParams> & { apiKey: string; configuration: ClientOptions },
): Promise<EmbeddingsClient> {
  const { OpenAIEmbeddings } = await import('@langchain/openai');
  class OpenAIEmbeddingsWithUsage extends OpenAIEmbeddings {
    async embedWithUsage(text: string): Promise<{ vector: number[]; promptTokens: number | undefined }> {
      const response = await this.embeddingWithRetry({
        model: this.model,
        input: this.stripNewLines ? text.replace(/\n/g, ' ') : text,
        ...(this.dimensions ? { dimensions: this.dimensions } : {}),
        ...(this.encodingFormat ? { encoding_format: this.encodingFormat } : {}),
      });
      return { vector: response.data[0].embedding, promptTokens: response.usage?.prompt_tokens };
    }
  }
  return new OpenAIEmbeddingsWithUsage(fields);
}

const TIMEOUT_MS = 30_000;

/**
 * Embeddings through any OpenAI-compatible `/v1/embeddings` (OpenAI, Azure,
 * vLLM, a LiteLLM proxy, and Ollama, which serves the same protocol at
 * OLLAMA_BASE_URL/v1), with LangChain's OpenAI client. Anthropic has no
 * embeddings (the start refuses such an EMBEDDINGS_MODEL). Provider failures
 * become 502/504 that name the model and status, never the text.
 */
@Injectable()
export class OpenAiEmbeddings extends Embeddings {
  /** The client's settings when a provider is configured; the client itself once built. */
  private readonly fields?: Parameters<typeof buildClient>[0];
  private client?: Promise<EmbeddingsClient>;

  constructor(private readonly config: AppConfig) {
    super();
    const { provider, name } = config.llm.models.embeddings;
    const { apiKey, baseUrl } =
      provider === 'ollama'
        ? {
            apiKey: 'ollama',
            baseUrl: `${config.llm.models.providers.ollama.baseUrl ?? OLLAMA_DEFAULT_URL}/v1`,
          }
        : config.llm.models.providers.openai;
    if (!apiKey && !baseUrl) return;
    this.fields = {
      model: name,
      // A self-hosted endpoint (Ollama, vLLM) may need no key; the client insists on one.
      apiKey: apiKey ?? 'unused',
      // providerFetch marks a connection that could not be opened (nothing sent, nothing billed).
      configuration: { ...(baseUrl ? { baseURL: baseUrl } : {}), fetch: providerFetch },
      // Only the text-embedding-3 family can shorten its vectors to a requested size.
      dimensions: name.startsWith('text-embedding-3') ? config.vectorDimensions : undefined,
      timeout: TIMEOUT_MS,
      maxRetries: 2,
    };
  }

  private embeddingsClient(fields: Parameters<typeof buildClient>[0]): Promise<EmbeddingsClient> {
    if (!this.client) {
      this.client = buildClient(fields);
      // A failed load is not kept: the next call tries again.
      this.client.catch(() => (this.client = undefined));
    }
    return this.client;
  }

  async embed(text: string, user?: { id: string; tier: Tier }): Promise<number[]> {
    if (!this.fields) throw notConfigured();
    const model = this.config.llm.models.embeddings.label;
    // Loaded before the reservation: a package that would not load has cost nothing.
    const client = await this.embeddingsClient(this.fields);
    const reservation = await this.reserve(text, model, user);
    let vector: number[];
    try {
      const { vector: embedded, promptTokens: reported } = await client.embedWithUsage(text);
      vector = embedded;
      await reservation?.settle(
        reported === undefined
          ? { promptTokens: await countTokens([text]), completionTokens: 0, estimated: true }
          : { promptTokens: reported, completionTokens: 0, estimated: false },
      );
    } catch (err) {
      // Billed like a chat call: a call cut after sending (a timeout, a dropped connection) is owed,
      // as an estimate; one refused with a status, or never sent, is not (see call-billing.ts).
      if (reachedProvider(err)) {
        const promptTokens = await countTokens([text]).catch(() => estimatePromptTokens([], text));
        await reservation?.settle({ promptTokens, completionTokens: 0, estimated: true });
      } else {
        await reservation?.release();
      }
      throw providerError(err, model);
    }
    const expected = this.config.vectorDimensions;
    if (vector.length !== expected) {
      throw new AppException(
        'provider_unavailable',
        `The embeddings model ${model} returned ${vector.length} dimensions; VECTOR_DIMENSIONS is ${expected}`,
      );
    }
    return vector;
  }

  /** Holds the call's worst case against the user's budget (none for calls made on nobody's behalf). */
  private async reserve(text: string, model: string, user?: { id: string; tier: Tier }) {
    if (!this.meter || !user) return undefined;
    return this.meter.reserve({
      userId: user.id,
      tier: user.tier,
      model,
      kind: 'embedding',
      promptTokens: estimatePromptTokens([], text),
      maxOutputTokens: 0,
    });
  }
}

function notConfigured(): AppException {
  return new AppException(
    'feature_not_configured',
    'Text queries need an embeddings model: set OPENAI_API_KEY (and OPENAI_BASE_URL for another ' +
      'OpenAI-compatible endpoint), or EMBEDDINGS_MODEL=ollama:<model> for a local Ollama. Searching by ' +
      'vector or query_blob works without one.',
  );
}

function providerError(err: unknown, model: string): Error {
  const status = (err as { status?: unknown }).status;
  const name = (err as { name?: unknown }).name;
  if (name === 'TimeoutError' || (err instanceof Error && /timed? ?out/i.test(err.message))) {
    return new AppException(
      'provider_timeout',
      `The embeddings provider did not answer in time (model ${model})`,
    );
  }
  return new AppException(
    'provider_unavailable',
    typeof status === 'number'
      ? `The embeddings provider answered ${status} (model ${model})`
      : `The embeddings provider could not be reached (model ${model})`,
  );
}
