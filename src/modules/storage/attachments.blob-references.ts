import { Injectable } from '@nestjs/common';
import { BlobReferences, UUID } from '../../common/blob-store/blob-references.js';
import { AttachmentsRepository } from './attachments.repository.js';

/**
 * Attachment blobs: `{user_id}/attachments/{attachment_id}` (no suffix, so no record key, which
 * always ends in `.{random}`, matches). A pending attachment's key counts as referenced: its
 * upload may sit idle until its own deadline, when the attachment sweep removes it.
 */
@Injectable()
export class AttachmentBlobReferences extends BlobReferences {
  readonly kind = 'attachment';
  readonly pattern = new RegExp(`^(?<user>${UUID})/attachments/(?<id>${UUID})$`);

  constructor(private readonly attachments: AttachmentsRepository) {
    super();
  }

  async referenced(keys: string[]): Promise<Set<string>> {
    return new Set(await this.attachments.referencedBlobKeys(keys, this.groupsOf(keys, 'id')));
  }
}
