import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export interface VectorExportRow {
  item_id: string;
  blob: Buffer;
  checksum: string;
  size_bytes: number;
  embedding: number[] | null;
  created_at: Date;
  updated_at: Date;
}

/** What an account's export and erasure read and remove of vector_items. */
@Injectable()
export class VectorAccountDataRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  itemsAfter(userId: string, after: string | null, limit: number): Promise<VectorExportRow[]> {
    return this.db.query(
      `SELECT item_id, blob, checksum, size_bytes, embedding, created_at, updated_at FROM vector_items
        WHERE user_id = $1 AND ($2::varchar IS NULL OR item_id > $2) ORDER BY item_id LIMIT $3`,
      [userId, after, limit],
    );
  }

  async deleteAll(userId: string): Promise<void> {
    await this.db.query('DELETE FROM vector_items WHERE user_id = $1', [userId]);
  }
}
