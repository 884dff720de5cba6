import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import {
  AccountDataParticipant,
  type AccountArchive,
  type ErasedAccount,
  type ExportedAccount,
} from '../../common/account-data/account-data.js';
import { pages } from '../../common/account-data/json-stream.js';
import { UsageAccountDataRepository } from './account-data.repository.js';

/** usage.json: daily totals and every metered model call (tokens and cost; never prompt text). */
@Injectable()
export class UsageAccountData extends AccountDataParticipant {
  readonly name = 'usage';
  readonly eraseOrder = 30;

  constructor(private readonly repository: UsageAccountDataRepository) {
    super();
  }

  async export(account: ExportedAccount, archive: AccountArchive): Promise<void> {
    const days = await this.repository.daysOf(account.userId);
    const calls = pages(
      (after) => this.repository.callsAfter(account.userId, after, 500),
      (call) => String(call.id),
    );
    async function* json(): AsyncGenerator<string> {
      yield `{"days":${JSON.stringify(days)},"calls":[`;
      let first = true;
      for await (const call of calls) {
        yield `${first ? '\n' : ',\n'}${JSON.stringify(call)}`;
        first = false;
      }
      yield ']}\n';
    }
    await archive.addFile('usage.json', Readable.from(json()));
  }

  async erase(account: ErasedAccount): Promise<void> {
    await this.repository.deleteAll(account.userId);
  }
}
