import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module.js';
import { ChatController } from './chat.controller.js';
import { ChatStreamService } from './chat-stream.service.js';
import { ChatService } from './chat.service.js';
import { SanitizerService } from './sanitizer.service.js';

/** POST /chat (the streaming transports come beside it). Stateless: no tables, nothing kept. */
@Module({
  imports: [AgentsModule],
  controllers: [ChatController],
  providers: [ChatService, ChatStreamService, SanitizerService],
})
export class ChatModule {}
