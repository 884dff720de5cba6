import { Global, Module } from '@nestjs/common';
import { ChatModel } from './chat-model.js';
import { Embeddings } from './embeddings.js';
import { ProviderChatModel } from './provider-chat-model.js';
import { OpenAiEmbeddings } from './openai-embeddings.js';

/** The model providers (chat: OpenAI, Anthropic, Gemini, Ollama; embeddings: OpenAI-compatible, Ollama), behind ports. */
@Global()
@Module({
  providers: [
    { provide: Embeddings, useClass: OpenAiEmbeddings },
    { provide: ChatModel, useClass: ProviderChatModel },
  ],
  exports: [Embeddings, ChatModel],
})
export class LlmModule {}
