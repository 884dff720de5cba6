import { Injectable } from '@nestjs/common';
import { BlobReferences, UUID } from '../../common/blob-store/blob-references.js';
import { AccountRepository } from './account.repository.js';

/** Export archives: the export job writes `{user_id}/exports/{export_id}.zip`. */
@Injectable()
export class AccountBlobReferences extends BlobReferences {
  readonly kind = 'export';
  readonly pattern = new RegExp(`^(?<user>${UUID})/exports/(?<id>${UUID})\\.zip$`);

  constructor(private readonly repository: AccountRepository) {
    super();
  }

  async referenced(keys: string[]): Promise<Set<string>> {
    return new Set(await this.repository.referencedKeys(keys));
  }
}
