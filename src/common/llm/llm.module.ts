import { Global, Module } from '@nestjs/common';
import { Embeddings } from './embeddings.js';
import { OpenAiEmbeddings } from './openai-embeddings.js';

/** The OpenAI-compatible model endpoints, behind ports. */
@Global()
@Module({
  providers: [{ provide: Embeddings, useClass: OpenAiEmbeddings }],
  exports: [Embeddings],
})
export class LlmModule {}
