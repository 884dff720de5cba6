import { Module } from '@nestjs/common';
import { provideAccountDataParticipant } from '../../common/account-data/account-data.registry.js';
import { BackupAccountDataRepository } from './account-data.repository.js';
import { BackupAccountData } from './backup.account-data.js';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideBlobReferences } from '../../common/blob-store/blob-sweep.service.js';
import { BackupBlobReferences } from './backup.blob-references.js';
import { BackupController } from './backup.controller.js';
import { BackupRepository } from './backup.repository.js';
import { BackupService } from './backup.service.js';
import { Backup } from './entities/backup.entity.js';

@Module({
  imports: [TypeOrmModule.forFeature([Backup])],
  controllers: [BackupController],
  providers: [
    BackupRepository,
    BackupService,
    ...provideBlobReferences(BackupBlobReferences),
    BackupAccountDataRepository,
    ...provideAccountDataParticipant(BackupAccountData),
  ],
})
export class BackupModule {}
