import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { blobKeyOwner, UUID } from '../../common/blob-store/blob-sweep.service.js';
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
    // BackupService writes `{user_id}/backups/{backup_id}` (no suffix: a record key always has one).
    blobKeyOwner({
      kind: 'backup',
      pattern: new RegExp(`^(?<user>${UUID})/backups/(?<id>${UUID})$`),
      references: [{ table: 'backups', column: 'blob_key', lookup: { column: 'id', group: 'id' } }],
    }),
  ],
})
export class BackupModule {}
