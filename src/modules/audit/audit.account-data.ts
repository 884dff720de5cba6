import { Injectable } from '@nestjs/common';
import {
  AccountDataParticipant,
  type AccountArchive,
  type ErasedAccount,
  type ExportedAccount,
} from '../../common/account-data/account-data.js';
import { jsonArrayStream } from '../../common/account-data/json-stream.js';
import { AuditService } from './audit.service.js';

/**
 * The audit entries about an account (audit.json); on erasure their personal
 * fields are blanked and the account's pseudonym key destroyed, keeping the
 * chain verifiable (see AuditLog). Late in the order: other participants'
 * erasures may still be audited about the account before it.
 */
@Injectable()
export class AuditAccountData extends AccountDataParticipant {
  readonly name = 'audit';
  readonly eraseOrder = 90;

  constructor(private readonly audit: AuditService) {
    super();
  }

  async export(account: ExportedAccount, archive: AccountArchive): Promise<void> {
    await archive.addFile(
      'audit.json',
      jsonArrayStream(this.audit.entriesAbout(account.userId, account.email), (entry) => ({
        id: entry.id,
        event_type: entry.eventType,
        actor_id: entry.actorId,
        subject_id: entry.subjectId,
        reason: entry.reason,
        data: entry.data,
        created_at: entry.createdAt.getTime(),
        chain_hash: entry.chainHash,
      })),
    );
  }

  async erase(account: ErasedAccount): Promise<void> {
    await this.audit.erasePersonalData(account.userId, account.email);
  }
}
