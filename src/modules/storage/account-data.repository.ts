import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export interface RecordExportRow {
  id: string;
  table_name: string;
  blob_key: string | null;
  checksum: string;
  size_bytes: string;
  version: number;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export interface ConflictExportRow {
  id: string;
  record_id: string;
  table_name: string;
  version: number;
  checksum: string;
  size_bytes: string;
  blob_key: string;
  created_at: Date;
}

export interface AttachmentExportRow {
  id: string;
  record_id: string;
  size_bytes: string;
  checksum: string;
  content_type: string | null;
  blob_key: string;
  upload_id: string | null;
  status: 'pending' | 'complete';
  created_at: Date;
  completed_at: Date | null;
}

/** What an account's export and erasure read and remove of the storage module's tables. */
@Injectable()
export class StorageAccountDataRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** A page of the account's records (tombstones included), by id after `after`. */
  recordsAfter(userId: string, after: string | null, limit: number): Promise<RecordExportRow[]> {
    return this.db.query(
      `SELECT id, table_name, blob_key, checksum, size_bytes, version, created_at, updated_at, deleted_at
         FROM storage_records WHERE user_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3`,
      [userId, after, limit],
    );
  }

  conflictsAfter(userId: string, after: string | null, limit: number): Promise<ConflictExportRow[]> {
    return this.db.query(
      `SELECT id, record_id, table_name, version, checksum, size_bytes, blob_key, created_at
         FROM storage_conflicts WHERE user_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3`,
      [userId, after, limit],
    );
  }

  changesAfter(userId: string, after: string | null, limit: number): Promise<Array<Record<string, unknown>>> {
    return this.db.query(
      `SELECT seq::text AS seq, record_id, table_name, op, version, checksum, size_bytes, changed_at
         FROM storage_changes WHERE user_id = $1 AND ($2::bigint IS NULL OR seq > $2::bigint)
        ORDER BY seq LIMIT $3`,
      [userId, after, limit],
    );
  }

  devicesOf(userId: string): Promise<Array<Record<string, unknown>>> {
    return this.db.query(
      `SELECT device_id, name, last_sync_at, cursor_seq::text AS cursor_seq, created_at FROM devices WHERE user_id = $1 ORDER BY device_id`,
      [userId],
    );
  }

  /** A page of the account's attachments (uploads in progress included), by id after `after`. */
  attachmentsAfter(userId: string, after: string | null, limit: number): Promise<AttachmentExportRow[]> {
    return this.db.query(
      `SELECT id, record_id, size_bytes, checksum, content_type, blob_key, upload_id, status, created_at, completed_at
         FROM storage_attachments WHERE user_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3`,
      [userId, after, limit],
    );
  }

  /** Every blob key the account's records and conflict copies name, a page at a time. */
  async blobKeysAfter(userId: string, after: string | null, limit: number): Promise<string[]> {
    const rows = await this.db.query<Array<{ key: string }>>(
      `SELECT key FROM (
         SELECT blob_key AS key FROM storage_records WHERE user_id = $1 AND blob_key IS NOT NULL
         UNION SELECT blob_key FROM storage_conflicts WHERE user_id = $1) keys
        WHERE $2::text IS NULL OR key > $2 ORDER BY key LIMIT $3`,
      [userId, after, limit],
    );
    return rows.map((row) => row.key);
  }

  /** Every row of the account in the storage tables, in one transaction. */
  async deleteAll(userId: string): Promise<void> {
    await this.db.transaction(async (manager) => {
      for (const table of [
        'storage_attachments',
        'storage_conflicts',
        'storage_changes',
        'storage_records',
        'devices',
        'storage_usage',
      ]) {
        await manager.query(`DELETE FROM ${table} WHERE user_id = $1`, [userId]);
      }
    });
  }
}
