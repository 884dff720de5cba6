import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { AccountDataModule } from './common/account-data/account-data.registry.js';
import { BlobStoreModule } from './common/blob-store/blob-store.module.js';
import { LifecycleModule } from './common/lifecycle/lifecycle.module.js';
import { LlmModule } from './common/llm/llm.module.js';
import { MetricsModule } from './common/metrics/metrics.module.js';
import { RateLimitModule } from './common/rate-limit/rate-limit.module.js';
import { RealtimeModule } from './common/realtime/connections.service.js';
import { RedisModule } from './common/redis/redis.module.js';
import { SecretsModule } from './common/secrets/secrets.module.js';
import { BodyParsersModule } from './common/http/body-parsers.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { AccountModule } from './modules/account/index.js';
import { AdminModule } from './modules/admin/index.js';
import { AgentsModule } from './modules/agents/index.js';
import { AuditModule } from './modules/audit/index.js';
import { AuthModule } from './modules/auth/index.js';
import { BackupModule } from './modules/backup/index.js';
import { BillingModule } from './modules/billing/index.js';
import { ChatModule } from './modules/chat/index.js';
import { HealthModule } from './modules/health/index.js';
import { PluginCatalogModule } from './modules/plugin-catalog/index.js';
import { PluginSalesModule } from './modules/plugin-sales/index.js';
import { PluginSubmissionsModule } from './modules/plugin-submissions/index.js';
import { StorageModule } from './modules/storage/index.js';
import { SsoModule } from './modules/sso/index.js';
import { TeamsModule } from './modules/teams/index.js';
import { UsageModule } from './modules/usage/index.js';
import { VectorModule } from './modules/vector/index.js';

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
        SecretsModule,
        BodyParsersModule,
        BlobStoreModule,
        AccountDataModule,
        RateLimitModule,
        RealtimeModule,
        LlmModule,
        MetricsModule,
        HealthModule,
        AuditModule,
        AuthModule,
        BillingModule,
        TeamsModule,
        SsoModule,
        StorageModule,
        BackupModule,
        VectorModule,
        AgentsModule,
        ChatModule,
        UsageModule,
        // Sales and submissions before the catalog: Nest registers routes module by module in this order,
        // and their static `/plugins/mine`, `/plugins/developer`, `/plugins/earnings` must come before the
        // catalog's `/plugins/:id` (test/route-audit.e2e-spec.ts checks the order).
        PluginSalesModule,
        PluginSubmissionsModule,
        PluginCatalogModule,
        AdminModule,
        AccountModule,
        ...extra,
      ],
    };
  }
}
