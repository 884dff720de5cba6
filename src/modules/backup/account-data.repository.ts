import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export interface BackupExportRow {
  id: string;
  blob_key: string;
  version: number;
  timestamp: string;
  checksum: string;
  size_bytes: string;
  chunk_count: number;
  created_at: Date;
}

/** What an account's export and erasure read and remove of backups. */
@Injectable()
export class BackupAccountDataRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The whole history (BACKUP_KEEP rows at most), newest first. */
  historyOf(userId: string): Promise<BackupExportRow[]> {
    return this.db.query(
      `SELECT id, blob_key, version, timestamp::text AS timestamp, checksum, size_bytes::text AS size_bytes,
              chunk_count, created_at
         FROM backups WHERE user_id = $1 ORDER BY created_at DESC`,
      [userId],
    );
  }

  async deleteAll(userId: string): Promise<void> {
    await this.db.query('DELETE FROM backups WHERE user_id = $1', [userId]);
  }
}
