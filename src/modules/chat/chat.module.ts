import { Module } from '@nestjs/common';
import { RedisService } from '../../common/redis/redis.service.js';
import { AgentsModule } from '../agents/index.js';
import { AuthModule } from '../auth/index.js';
import { UsageModule } from '../usage/index.js';
import { ChatController } from './chat.controller.js';
import { ChatRunsService } from './chat-runs.service.js';
import { ChatStreamService } from './chat-stream.service.js';
import { ChatWebSocketServer } from './chat-websocket.server.js';
import { ChatGateway } from './chat.gateway.js';
import { ChatMetrics } from './chat.metrics.js';
import { ChatService } from './chat.service.js';
import { SanitizerService } from './sanitizer.service.js';
import { MemoryStreamSlots, RedisStreamSlots, StreamSlots } from './stream-slots.js';

/**
 * POST /chat and the three streaming transports (SSE, Socket.IO /chat, the
 * plain WebSocket). Stateless: no tables; running streams live in memory and,
 * with REDIS_URL, their slots and cancels in Redis.
 */
@Module({
  imports: [AgentsModule, AuthModule, UsageModule],
  controllers: [ChatController],
  providers: [
    ChatService,
    ChatStreamService,
    SanitizerService,
    ChatRunsService,
    ChatGateway,
    ChatWebSocketServer,
    ChatMetrics,
    {
      provide: StreamSlots,
      inject: [RedisService],
      useFactory: (redis: RedisService) =>
        redis.client ? new RedisStreamSlots(redis.client) : new MemoryStreamSlots(),
    },
  ],
})
export class ChatModule {}
