import { Module } from '@nestjs/common';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';
import { OutageService } from './outage.service.js';

@Module({
  controllers: [HealthController],
  providers: [HealthService, OutageService],
  exports: [HealthService, OutageService],
})
export class HealthModule {}
