import { Injectable } from '@nestjs/common';
import {
  AccountDataParticipant,
  type AccountArchive,
  type ErasedAccount,
  type ExportedAccount,
} from '../../common/account-data/account-data.js';
import { jsonArrayStream, pages } from '../../common/account-data/json-stream.js';
import { VectorAccountDataRepository } from './account-data.repository.js';

/** vectors.json: each item's id, checksum, encrypted blob (base64, as stored) and semantic vector. */
@Injectable()
export class VectorAccountData extends AccountDataParticipant {
  readonly name = 'vector';
  readonly eraseOrder = 20;

  constructor(private readonly repository: VectorAccountDataRepository) {
    super();
  }

  async export(account: ExportedAccount, archive: AccountArchive): Promise<void> {
    const items = pages(
      (after) => this.repository.itemsAfter(account.userId, after, 100),
      (item) => item.item_id,
    );
    await archive.addFile(
      'vectors.json',
      jsonArrayStream(items, (item) => ({
        id: item.item_id,
        checksum: item.checksum,
        size_bytes: item.size_bytes,
        blob: Buffer.from(item.blob).toString('base64'),
        vector: item.embedding,
        created_at: new Date(item.created_at).getTime(),
        updated_at: new Date(item.updated_at).getTime(),
      })),
    );
  }

  async erase(account: ErasedAccount): Promise<void> {
    await this.repository.deleteAll(account.userId);
  }
}
