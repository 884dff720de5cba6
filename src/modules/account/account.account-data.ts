import { Injectable } from '@nestjs/common';
import {
  AccountDataParticipant,
  type AccountArchive,
  type ErasedAccount,
  type ExportedAccount,
} from '../../common/account-data/account-data.js';
import { BlobStore } from '../../common/blob-store/blob-store.js';
import { AccountRepository } from './account.repository.js';

/**
 * The account module's own rows: its exports and their archives. Erased
 * after every module's data and before the user row; it also removes
 * whatever is left under the account's key prefix (`{user_id}/`): leftovers
 * of writes a crash cut, which no row names and the blob sweep would only
 * reach hours later.
 */
@Injectable()
export class AccountAccountData extends AccountDataParticipant {
  readonly name = 'account';
  readonly eraseOrder = 95;

  constructor(
    private readonly repository: AccountRepository,
    private readonly blobs: BlobStore,
  ) {
    super();
  }

  /** Earlier exports are listed in account.json (not their archives). */
  async export(account: ExportedAccount, archive: AccountArchive): Promise<void> {
    const rows = await this.repository.exportKeysOf(account.userId);
    archive.addAccountSection(
      'exports',
      rows.map((row) => ({ id: row.id, status: row.status, created_at: row.createdAt.getTime() })),
    );
  }

  async erase(account: ErasedAccount): Promise<void> {
    for (const row of await this.repository.exportKeysOf(account.userId)) {
      if (row.blobKey) await this.blobs.delete(row.blobKey);
    }
    for await (const blob of this.blobs.list(`${account.userId}/`)) await this.blobs.delete(blob.key);
    await this.repository.deleteExportsOf(account.userId);
  }
}
