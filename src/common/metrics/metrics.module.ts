import { Global, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { DatabaseService } from '../../database/database.service.js';
import { BlobStore } from '../blob-store/blob-store.js';
import { BlobSweepService } from '../blob-store/blob-sweep.service.js';
import { ChatModel } from '../llm/chat-model.js';
import { Embeddings } from '../llm/embeddings.js';
import { RedisService } from '../redis/redis.service.js';
import { AppMetrics } from './app-metrics.js';
import { observePool, observeRedis } from './backing-metrics.js';
import { observeChatModel, observeEmbeddings } from './llm-metrics.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsServer } from './metrics.server.js';
import { observeBlobStore, observeSweep } from './store-metrics.js';

/**
 * Wraps the ports of the outside world (model, blob store, S3, database pool,
 * Redis) at their boundary when metrics are on; nothing is wrapped when they
 * are off, so they then cost nothing.
 */
@Injectable()
class BoundaryMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: AppMetrics,
    private readonly config: AppConfig,
    private readonly chatModel: ChatModel,
    private readonly embeddings: Embeddings,
    private readonly blobs: BlobStore,
    private readonly sweeps: BlobSweepService,
    private readonly redis: RedisService,
    private readonly database: DatabaseService,
  ) {}

  onModuleInit(): void {
    if (!this.metrics.enabled) return;
    observeChatModel(this.chatModel, this.metrics);
    observeEmbeddings(this.embeddings, this.config.llm.embeddingsModel, this.metrics);
    observeBlobStore(this.blobs, this.metrics);
    observeSweep(this.sweeps, this.metrics);
    if (this.redis.client) observeRedis(this.redis.client, this.metrics);
    const pool = this.database.pool();
    if (pool) observePool(pool, this.metrics);
  }
}

/** Prometheus metrics: the registry every part of the app counts into, and its two doors. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [AppMetrics, MetricsServer, BoundaryMetrics],
  exports: [AppMetrics],
})
export class MetricsModule {}
