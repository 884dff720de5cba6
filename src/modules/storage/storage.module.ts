import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Device } from './entities/device.entity.js';
import { StorageChange } from './entities/storage-change.entity.js';
import { StorageConflict } from './entities/storage-conflict.entity.js';
import { StorageRecord } from './entities/storage-record.entity.js';
import { StorageUsage } from './entities/storage-usage.entity.js';
import { StorageAttachment } from './entities/storage-attachment.entity.js';
import { AttachmentLinks } from './attachment-links.js';
import { AttachmentBlobReferences } from './attachments.blob-references.js';
import { AttachmentsController } from './attachments.controller.js';
import { AttachmentsRepository } from './attachments.repository.js';
import { AttachmentsService } from './attachments.service.js';
import { provideAccountDataParticipant } from '../../common/account-data/account-data.registry.js';
import { provideBlobReferences } from '../../common/blob-store/blob-sweep.service.js';
import { StorageAccountDataRepository } from './account-data.repository.js';
import { StorageAccountData } from './storage.account-data.js';
import { AuthModule } from '../auth/index.js';
import { StoragePurgeService } from './storage-purge.service.js';
import { StorageBlobReferences } from './storage.blob-references.js';
import { StorageController } from './storage.controller.js';
import { StorageEvents } from './storage.events.js';
import { StorageGateway } from './storage.gateway.js';
import { RecordsRepository } from './records.repository.js';
import { StorageQuotaService } from './storage-quota.service.js';
import { StorageUsageRepository } from './storage-usage.repository.js';
import { StorageService } from './storage.service.js';
import { SyncRepository } from './sync.repository.js';
import { SyncService } from './sync.service.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([
      StorageRecord,
      StorageChange,
      StorageUsage,
      StorageConflict,
      Device,
      StorageAttachment,
    ]),
    AuthModule,
  ],
  controllers: [StorageController, AttachmentsController],
  providers: [
    RecordsRepository,
    AttachmentsRepository,
    AttachmentsService,
    AttachmentLinks,
    SyncRepository,
    StorageUsageRepository,
    StorageQuotaService,
    StorageService,
    SyncService,
    StoragePurgeService,
    StorageEvents,
    StorageGateway,
    ...provideBlobReferences(StorageBlobReferences),
    ...provideBlobReferences(AttachmentBlobReferences),
    StorageAccountDataRepository,
    ...provideAccountDataParticipant(StorageAccountData),
  ],
  exports: [StorageQuotaService, StorageEvents],
})
export class StorageModule {}
