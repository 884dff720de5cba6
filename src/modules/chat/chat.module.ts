import { Module } from '@nestjs/common';
import { RedisService } from '../../common/redis/redis.service.js';
import { AppConfig } from '../../config/app-config.js';
import { AgentsModule } from '../agents/index.js';
import { AuthModule } from '../auth/index.js';
import { UsageModule } from '../usage/index.js';
import { ChatController } from './chat.controller.js';
import { ChatRunsService } from './chat-runs.service.js';
import { ChatStreamService } from './chat-stream.service.js';
import { ChatWebSocketServer } from './chat-websocket.server.js';
import { ChatGateway } from './chat.gateway.js';
import { ChatMetrics } from './chat.metrics.js';
import { ChatModelsService } from './chat-models.service.js';
import { ChatService } from './chat.service.js';
import { SanitizerService } from './sanitizer.service.js';
import { MemoryStreamLog, NoStreamLog, RedisStreamLog, StreamLog } from './stream-log.js';
import { MemoryStreamSlots, RedisStreamSlots, StreamSlots } from './stream-slots.js';

/**
 * POST /chat and the three streaming transports (SSE, Socket.IO /chat, the
 * plain WebSocket), each resumable. Stateless: no tables; running streams live
 * in memory and, with REDIS_URL, their slots, cancels and event logs in Redis
 * (without it, the event logs of finished streams in memory, bounded).
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
    ChatModelsService,
    {
      provide: StreamSlots,
      inject: [RedisService],
      useFactory: (redis: RedisService) =>
        redis.client ? new RedisStreamSlots(redis.client) : new MemoryStreamSlots(),
    },
    {
      provide: StreamLog,
      inject: [RedisService, AppConfig],
      useFactory: (redis: RedisService, config: AppConfig) => {
        if (!config.chatResume.enabled) return new NoStreamLog();
        return redis.client ? new RedisStreamLog(redis.client) : new MemoryStreamLog();
      },
    },
  ],
})
export class ChatModule {}
