import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideAccountDataParticipant } from '../../common/account-data/account-data.registry.js';
import { AuditAccountData } from './audit.account-data.js';
import { AuditController } from './audit.controller.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';
import { AuditLog } from './entities/audit-log.entity.js';
import { AuditPseudonymKey } from './entities/audit-pseudonym-key.entity.js';

/** The hash-chained audit log; every module writes through AuditService. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditLog, AuditPseudonymKey])],
  controllers: [AuditController],
  providers: [AuditRepository, AuditService, ...provideAccountDataParticipant(AuditAccountData)],
  exports: [AuditService],
})
export class AuditModule {}
