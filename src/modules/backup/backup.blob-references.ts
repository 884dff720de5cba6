import { Injectable } from '@nestjs/common';
import { BlobReferences, UUID } from '../../common/blob-store/blob-references.js';
import { BackupRepository } from './backup.repository.js';

/** Backup blobs: BackupService writes `{user_id}/backups/{backup_id}` (no suffix: a record key always has one). */
@Injectable()
export class BackupBlobReferences extends BlobReferences {
  readonly kind = 'backup';
  readonly pattern = new RegExp(`^(?<user>${UUID})/backups/(?<id>${UUID})$`);

  constructor(private readonly backups: BackupRepository) {
    super();
  }

  async referenced(keys: string[]): Promise<Set<string>> {
    return new Set(await this.backups.referencedBlobKeys(keys, this.groupsOf(keys, 'id')));
  }
}
