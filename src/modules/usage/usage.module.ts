import { Module } from '@nestjs/common';
import { provideAccountDataParticipant } from '../../common/account-data/account-data.registry.js';
import { UsageAccountDataRepository } from './account-data.repository.js';
import { UsageAccountData } from './usage.account-data.js';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/index.js';
import { UsageCall } from './entities/usage-call.entity.js';
import { UsageDay } from './entities/usage-day.entity.js';
import { AdminUsageController, UsageController } from './usage.controller.js';
import { UsageEvents } from './usage.events.js';
import { UsageAlertPush } from './usage-alert.push.js';
import { UsageRepository } from './usage.repository.js';
import { UsageService } from './usage.service.js';

/**
 * Model usage and spend: meters every model call through the LLM ports
 * (`useMeter`), owns the per-call ledger and the per-day totals, enforces the
 * daily budgets, alerts at 80 %, and serves GET /usage and GET /admin/usage.
 */
@Module({
  imports: [TypeOrmModule.forFeature([UsageCall, UsageDay]), AuthModule],
  controllers: [UsageController, AdminUsageController],
  providers: [
    UsageService,
    UsageRepository,
    UsageEvents,
    UsageAlertPush,
    UsageAccountDataRepository,
    ...provideAccountDataParticipant(UsageAccountData),
  ],
  exports: [UsageService],
})
export class UsageModule {}
