import { Injectable } from '@nestjs/common';
import {
  AccountDataParticipant,
  type AccountArchive,
  type ErasedAccount,
  type ExportedAccount,
} from '../../common/account-data/account-data.js';
import { jsonArrayStream, pages } from '../../common/account-data/json-stream.js';
import { BlobStore } from '../../common/blob-store/blob-store.js';
import { StorageAccountDataRepository, type RecordExportRow } from './account-data.repository.js';

const PAGE = 200;
const ms = (date: Date | null) => (date ? new Date(date).getTime() : null);

/**
 * Records and conflict copies (metadata and their encrypted blobs exactly as
 * stored, with their checksums), completed attachments (the same), the
 * changes feed, and devices (in account.json). Erasure deletes the blobs
 * first (attachments' unfinished uploads aborted too), then every row: a
 * retry after a failure finds the keys again; a blob store outage throws.
 */
@Injectable()
export class StorageAccountData extends AccountDataParticipant {
  readonly name = 'storage';
  readonly eraseOrder = 10;

  constructor(
    private readonly repository: StorageAccountDataRepository,
    private readonly blobs: BlobStore,
  ) {
    super();
  }

  async export(account: ExportedAccount, archive: AccountArchive): Promise<void> {
    const { userId } = account;
    const devices = await this.repository.devicesOf(userId);
    archive.addAccountSection('devices', devices);
    const records = pages(
      (after) => this.repository.recordsAfter(userId, after, PAGE),
      (r) => r.id,
    );
    for await (const record of records) await this.exportRecord(archive, record);
    const conflicts = pages(
      (after) => this.repository.conflictsAfter(userId, after, PAGE),
      (c) => c.id,
    );
    for await (const conflict of conflicts) {
      const base = `records/conflicts/${conflict.id}`;
      await archive.addJson(`${base}.json`, {
        ...conflict,
        blob_key: undefined,
        created_at: ms(conflict.created_at),
      });
      await this.addBlob(archive, `${base}.bin`, conflict.blob_key);
    }
    await this.exportAttachments(account.userId, archive);
    const changes = pages(
      (after) => this.repository.changesAfter(userId, after, PAGE),
      (c) => String(c.seq),
    );
    await archive.addFile(
      'records/changes.json',
      jsonArrayStream(changes, (change) => change),
    );
  }

  async erase(account: ErasedAccount): Promise<void> {
    // The rows stay until every blob is gone, so paging by key sees each once.
    const keys = pages(
      (after) => this.repository.blobKeysAfter(account.userId, after, PAGE),
      (key) => key,
    );
    for await (const key of keys) await this.blobs.delete(key);
    const attachments = pages(
      (after) => this.repository.attachmentsAfter(account.userId, after, PAGE),
      (a) => a.id,
    );
    for await (const a of attachments) await this.blobs.abortDirectUpload(a.blob_key, a.upload_id);
    await this.repository.deleteAll(account.userId);
  }

  /** Completed attachments with their bytes as stored; uploads in progress are not data yet. */
  private async exportAttachments(userId: string, archive: AccountArchive): Promise<void> {
    const attachments = pages(
      (after) => this.repository.attachmentsAfter(userId, after, PAGE),
      (a) => a.id,
    );
    for await (const a of attachments) {
      if (a.status !== 'complete') continue;
      const base = `records/attachments/${a.id}`;
      await archive.addJson(`${base}.json`, {
        id: a.id,
        record_id: a.record_id,
        size_bytes: Number(a.size_bytes),
        sha256: a.checksum,
        content_type: a.content_type,
        created_at: ms(a.created_at),
        completed_at: ms(a.completed_at),
      });
      await this.addBlob(archive, `${base}.bin`, a.blob_key);
    }
  }

  private async exportRecord(archive: AccountArchive, record: RecordExportRow): Promise<void> {
    const base = `records/${record.table_name}/${record.id}`;
    await archive.addJson(`${base}.json`, {
      id: record.id,
      table: record.table_name,
      version: record.version,
      checksum: record.checksum,
      size_bytes: Number(record.size_bytes),
      created_at: ms(record.created_at),
      updated_at: ms(record.updated_at),
      deleted_at: ms(record.deleted_at),
    });
    if (record.blob_key && !record.deleted_at) await this.addBlob(archive, `${base}.bin`, record.blob_key);
  }

  /** The blob as stored; a missing one (purged meanwhile) is left out rather than failing the export. */
  private async addBlob(archive: AccountArchive, path: string, key: string): Promise<void> {
    const blob = await this.blobs.get(key);
    if (blob) await archive.addFile(path, blob.stream);
  }
}
