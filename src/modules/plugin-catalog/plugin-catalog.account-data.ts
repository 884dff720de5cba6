import { Injectable } from '@nestjs/common';
import {
  AccountDataParticipant,
  type AccountArchive,
  type ErasedAccount,
  type ExportedAccount,
} from '../../common/account-data/account-data.js';
import { BlobStore } from '../../common/blob-store/blob-store.js';
import { CatalogAccountDataRepository } from './account-data.repository.js';

/**
 * plugins.json: installs, ratings and authored plugins. Erasure removes the
 * ratings and installs; an authored plugin someone else installed or bought
 * stays, unlisted, under the account's pseudonym (their installs keep
 * working); any other authored plugin is deleted with its packages.
 */
@Injectable()
export class PluginCatalogAccountData extends AccountDataParticipant {
  readonly name = 'plugin-catalog';
  readonly eraseOrder = 50;

  constructor(
    private readonly repository: CatalogAccountDataRepository,
    private readonly blobs: BlobStore,
  ) {
    super();
  }

  async export(account: ExportedAccount, archive: AccountArchive): Promise<void> {
    await archive.addJson('plugins.json', {
      installs: await this.repository.installsOf(account.userId),
      ratings: await this.repository.ratingsOf(account.userId),
      authored: await this.repository.authoredBy(account.userId),
    });
  }

  async erase(account: ErasedAccount): Promise<void> {
    await this.repository.eraseUsage(account.userId, account.pseudonym);
    for (const key of await this.repository.packageKeysOfAuthored(account.userId)) {
      await this.blobs.delete(key);
    }
    await this.repository.deleteAuthored(account.userId);
  }
}
