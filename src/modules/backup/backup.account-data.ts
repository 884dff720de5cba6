import { Injectable } from '@nestjs/common';
import {
  AccountDataParticipant,
  type AccountArchive,
  type ErasedAccount,
  type ExportedAccount,
} from '../../common/account-data/account-data.js';
import { BlobStore } from '../../common/blob-store/blob-store.js';
import { BackupAccountDataRepository } from './account-data.repository.js';

/**
 * backups/history.json, and each backup's encrypted bytes (backups/<id>.bin)
 * when the account asked for them. Erasure: the blobs, then the rows.
 */
@Injectable()
export class BackupAccountData extends AccountDataParticipant {
  readonly name = 'backup';
  readonly eraseOrder = 20;

  constructor(
    private readonly repository: BackupAccountDataRepository,
    private readonly blobs: BlobStore,
  ) {
    super();
  }

  async export(account: ExportedAccount, archive: AccountArchive): Promise<void> {
    const history = await this.repository.historyOf(account.userId);
    await archive.addJson(
      'backups/history.json',
      history.map((backup) => ({
        id: backup.id,
        version: backup.version,
        timestamp: Number(backup.timestamp),
        checksum: backup.checksum,
        size_bytes: Number(backup.size_bytes),
        chunk_count: backup.chunk_count,
        created_at: new Date(backup.created_at).getTime(),
        file: archive.includeBackups ? `backups/${backup.id}.bin` : null,
      })),
    );
    if (!archive.includeBackups) return;
    for (const backup of history) {
      const blob = await this.blobs.get(backup.blob_key);
      if (blob) await archive.addFile(`backups/${backup.id}.bin`, blob.stream);
    }
  }

  async erase(account: ErasedAccount): Promise<void> {
    for (const backup of await this.repository.historyOf(account.userId)) {
      await this.blobs.delete(backup.blob_key);
    }
    await this.repository.deleteAll(account.userId);
  }
}
