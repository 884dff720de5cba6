import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideAccountDataParticipant } from '../../common/account-data/account-data.registry.js';
import { provideBlobReferences } from '../../common/blob-store/blob-sweep.service.js';
import { AuthModule } from '../auth/index.js';
import { AccountErasureService } from './account-erasure.service.js';
import { AccountExportService } from './account-export.service.js';
import { AccountJobsService } from './account-jobs.service.js';
import { AccountAccountData } from './account.account-data.js';
import { AccountBlobReferences } from './account.blob-references.js';
import { AccountController } from './account.controller.js';
import { AccountEvents } from './account.events.js';
import { ExportReadyPush } from './export-ready.push.js';
import { AccountRepository } from './account.repository.js';
import { AdminErasuresController } from './admin-erasures.controller.js';
import { AccountErasure } from './entities/account-erasure.entity.js';
import { AccountExport } from './entities/account-export.entity.js';
import { ExportLinksService } from './export-links.service.js';

/**
 * Export and erasure of an account (GDPR articles 15, 17, 20). Owns its
 * exports and erasures; every other module's data is reached through the
 * AccountDataParticipant each registers, never through its tables.
 */
@Module({
  imports: [TypeOrmModule.forFeature([AccountExport, AccountErasure]), AuthModule],
  controllers: [AccountController, AdminErasuresController],
  providers: [
    AccountRepository,
    AccountExportService,
    AccountErasureService,
    AccountJobsService,
    AccountEvents,
    ExportReadyPush,
    ExportLinksService,
    ...provideBlobReferences(AccountBlobReferences),
    ...provideAccountDataParticipant(AccountAccountData),
  ],
  exports: [AccountErasureService],
})
export class AccountModule {}
