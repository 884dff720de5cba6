import { Global, Module } from '@nestjs/common';
import { ChatModel } from './chat-model.js';
import { Embeddings } from './embeddings.js';
import { OpenAiChatModel } from './openai-chat-model.js';
import { OpenAiEmbeddings } from './openai-embeddings.js';

/** The OpenAI-compatible model endpoints, behind ports. */
@Global()
@Module({
  providers: [
    { provide: Embeddings, useClass: OpenAiEmbeddings },
    { provide: ChatModel, useClass: OpenAiChatModel },
  ],
  exports: [Embeddings, ChatModel],
})
export class LlmModule {}
