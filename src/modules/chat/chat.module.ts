import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { ChatController } from './chat.controller.js';
import { ChatStreamService } from './chat-stream.service.js';
import { ChatGateway } from './chat.gateway.js';
import { ChatService } from './chat.service.js';
import { SanitizerService } from './sanitizer.service.js';

/** POST /chat (the streaming transports come beside it). Stateless: no tables, nothing kept. */
@Module({
  imports: [AgentsModule, AuthModule],
  controllers: [ChatController],
  providers: [ChatService, ChatStreamService, SanitizerService, ChatGateway],
})
export class ChatModule {}
