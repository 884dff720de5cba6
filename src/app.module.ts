import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { BlobStoreModule } from './common/blob-store/blob-store.module.js';
import { LifecycleModule } from './common/lifecycle/lifecycle.module.js';
import { LlmModule } from './common/llm/llm.module.js';
import { RateLimitModule } from './common/rate-limit/rate-limit.module.js';
import { RedisModule } from './common/redis/redis.module.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { AdminModule } from './modules/admin/admin.module.js';
import { AgentsModule } from './modules/agents/agents.module.js';
import { AuditModule } from './modules/audit/audit.module.js';
import { AuthModule } from './modules/auth/auth.module.js';
import { BackupModule } from './modules/backup/backup.module.js';
import { BillingModule } from './modules/billing/billing.module.js';
import { ChatModule } from './modules/chat/chat.module.js';
import { HealthModule } from './modules/health/health.module.js';
import { StorageModule } from './modules/storage/storage.module.js';
import { UsageModule } from './modules/usage/usage.module.js';
import { VectorModule } from './modules/vector/vector.module.js';

@Module({})
export class AppModule {
  /** `extra` lets tests mount probe controllers beside the real modules. */
  static forRoot(config: AppConfig, extra: Type[] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LifecycleModule,
        DatabaseModule,
        RedisModule,
        BlobStoreModule,
        RateLimitModule,
        LlmModule,
        HealthModule,
        AuditModule,
        AuthModule,
        BillingModule,
        StorageModule,
        BackupModule,
        VectorModule,
        AgentsModule,
        ChatModule,
        UsageModule,
        AdminModule,
        ...extra,
      ],
    };
  }
}
