import { Injectable } from '@nestjs/common';
import {
  AccountDataParticipant,
  type AccountArchive,
  type ErasedAccount,
  type ExportedAccount,
} from '../../common/account-data/account-data.js';
import { SalesAccountDataRepository } from './account-data.repository.js';

/**
 * purchases.json: the account's purchases, its lines of the sales ledger (as
 * buyer or developer), payouts and connected account. Erasure keeps the
 * ledger and payouts, which accounting law makes us keep, under the pseudonym.
 */
@Injectable()
export class PluginSalesAccountData extends AccountDataParticipant {
  readonly name = 'plugin-sales';
  readonly eraseOrder = 60;

  constructor(private readonly repository: SalesAccountDataRepository) {
    super();
  }

  async export(account: ExportedAccount, archive: AccountArchive): Promise<void> {
    await archive.addJson('purchases.json', await this.repository.ofAccount(account.userId));
  }

  async erase(account: ErasedAccount): Promise<void> {
    await this.repository.pseudonymise(account.userId, account.pseudonym);
  }
}
