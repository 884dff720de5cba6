import { Injectable } from '@nestjs/common';
import { BlobReferences, UUID } from '../../common/blob-store/blob-references.js';
import { RecordsRepository } from './records.repository.js';

/**
 * Record blobs: StorageService writes `{user_id}/{table}/{record_id}.{random}`
 * (a fresh suffix per write); a conflict copy keeps the overwritten record's key.
 */
@Injectable()
export class StorageBlobReferences extends BlobReferences {
  readonly kind = 'record';
  readonly pattern = new RegExp(`^(?<user>${UUID})/[a-z][a-z0-9_]{0,62}/(?<id>${UUID})\\.[0-9a-f]{12}$`);

  constructor(private readonly records: RecordsRepository) {
    super();
  }

  async referenced(keys: string[]): Promise<Set<string>> {
    return new Set(
      await this.records.referencedBlobKeys(keys, {
        recordIds: this.groupsOf(keys, 'id'),
        userIds: this.groupsOf(keys, 'user'),
      }),
    );
  }
}
