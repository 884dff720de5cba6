import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, LessThan, type Repository } from 'typeorm';
import { returningRows } from '../../database/sql.js';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { StorageConflict } from './entities/storage-conflict.entity.js';
import { StorageRecord } from './entities/storage-record.entity.js';

/** Records (live and tombstoned) and the conflict copies kept when a write overwrote without a base version. */
@Injectable()
export class RecordsRepository {
  constructor(
    @InjectRepository(StorageRecord) private readonly records: Repository<StorageRecord>,
    @InjectRepository(StorageConflict) private readonly conflicts: Repository<StorageConflict>,
  ) {}

  /** The user's live record, or null (another user's id is as missing as an unknown one). */
  async getLiveForOwner(
    userId: string,
    id: string,
    options: { tx?: Tx; lock?: boolean } = {},
  ): Promise<StorageRecord | null> {
    const records = managerOf(options.tx, this.records.manager).getRepository(StorageRecord);
    return records.findOne({
      where: { id, userId, deletedAt: IsNull() },
      ...(options.lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
  }

  async listLiveForOwner(
    userId: string,
    query: { table?: string; page: number; limit: number },
  ): Promise<[StorageRecord[], number]> {
    return this.records.findAndCount({
      where: { userId, deletedAt: IsNull(), ...(query.table ? { tableName: query.table } : {}) },
      order: { createdAt: 'ASC', id: 'ASC' },
      take: query.limit,
      skip: (query.page - 1) * query.limit,
    });
  }

  /**
   * Inserts new records in one statement (a batch of creates, see WriteBatcher):
   * one array parameter per column, so the statement's text and parameter count
   * are the same for any batch size. Fills in each record's created_at and updated_at.
   */
  async insertMany(tx: Tx, records: StorageRecord[]): Promise<void> {
    const manager = managerOf(tx);
    const rows = await manager.query<Array<{ id: string; created_at: Date; updated_at: Date }>>(
      `INSERT INTO storage_records (id, user_id, table_name, blob_key, checksum, size_bytes, version, updated_at)
       SELECT id, user_id, table_name, blob_key, checksum, size_bytes, version, now()
         FROM unnest($1::uuid[], $2::uuid[], $3::varchar[], $4::varchar[], $5::char(64)[], $6::bigint[], $7::int[])
           AS r(id, user_id, table_name, blob_key, checksum, size_bytes, version)
       RETURNING id, created_at, updated_at`,
      [
        records.map((r) => r.id),
        records.map((r) => r.userId),
        records.map((r) => r.tableName),
        records.map((r) => r.blobKey),
        records.map((r) => r.checksum),
        records.map((r) => r.sizeBytes),
        records.map((r) => r.version),
      ],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const record of records) {
      const row = byId.get(record.id)!;
      Object.assign(record, { createdAt: row.created_at, updatedAt: row.updated_at });
    }
  }

  /** Points the record at its new bytes; answers the new updated_at. */
  async replaceContent(
    tx: Tx,
    id: string,
    content: { blobKey: string; checksum: string; sizeBytes: number; version: number },
  ): Promise<Date> {
    const manager = managerOf(tx);
    const [row] = await returningRows<{ updated_at: Date }>(
      manager,
      `UPDATE storage_records SET blob_key = $2, checksum = $3, size_bytes = $4, version = $5, updated_at = now()
        WHERE id = $1 RETURNING updated_at`,
      [id, content.blobKey, content.checksum, content.sizeBytes, content.version],
    );
    return row.updated_at;
  }

  async tombstone(tx: Tx, id: string, version: number): Promise<void> {
    const manager = managerOf(tx);
    await manager.query(
      'UPDATE storage_records SET deleted_at = now(), updated_at = now(), version = $2 WHERE id = $1',
      [id, version],
    );
  }

  /** Deletes tombstones older than `cutoff`; answers their blob keys. */
  async deleteTombstonesBefore(cutoff: Date): Promise<string[]> {
    const rows = await returningRows<{ blob_key: string | null }>(
      this.records.manager,
      'DELETE FROM storage_records WHERE deleted_at IS NOT NULL AND deleted_at < $1 RETURNING blob_key',
      [cutoff],
    );
    return rows.map((row) => row.blob_key).filter((key): key is string => !!key);
  }

  async keepConflictCopy(tx: Tx, overwritten: StorageRecord): Promise<void> {
    const manager = managerOf(tx);
    await manager.getRepository(StorageConflict).insert(
      Object.assign(new StorageConflict(), {
        userId: overwritten.userId,
        recordId: overwritten.id,
        tableName: overwritten.tableName,
        version: overwritten.version,
        checksum: overwritten.checksum,
        sizeBytes: overwritten.sizeBytes,
        blobKey: overwritten.blobKey!,
      }),
    );
  }

  async listConflictsForOwner(
    userId: string,
    page: { page: number; limit: number },
  ): Promise<[StorageConflict[], number]> {
    return this.conflicts.findAndCount({
      where: { userId },
      order: { createdAt: 'DESC', id: 'ASC' },
      take: page.limit,
      skip: (page.page - 1) * page.limit,
    });
  }

  async getConflictForOwner(userId: string, id: string): Promise<StorageConflict | null> {
    return this.conflicts.findOneBy({ id, userId });
  }

  /** Users who have conflict copies older than `cutoff`. */
  async ownersOfConflictsBefore(cutoff: Date): Promise<string[]> {
    const rows = await this.conflicts
      .createQueryBuilder('conflict')
      .select('DISTINCT conflict.user_id', 'user_id')
      .where('conflict.created_at < :cutoff', { cutoff })
      .getRawMany<{ user_id: string }>();
    return rows.map((row) => row.user_id);
  }

  /** Deletes the user's conflict copies older than `cutoff` (inside the usage lock); answers what went. */
  async deleteConflictsBefore(tx: Tx, userId: string, cutoff: Date): Promise<StorageConflict[]> {
    const manager = managerOf(tx);
    const conflicts = manager.getRepository(StorageConflict);
    const expired = await conflicts.find({
      where: { userId, createdAt: LessThan(cutoff) },
      lock: { mode: 'pessimistic_write' },
    });
    if (expired.length) await conflicts.delete(expired.map((conflict) => conflict.id));
    return expired;
  }

  /**
   * Of `keys` (record keys, for the blob sweep), those a record or a conflict
   * copy references. First through the primary key and the owner's index
   * (the ids and users the keys name: nearly every live key is found so);
   * what remains is checked against both tables in one statement (one
   * snapshot: a key moving from a record to its conflict copy is seen on one
   * side), which alone decides that a key is unreferenced.
   */
  async referencedBlobKeys(
    keys: string[],
    hints: { recordIds: string[]; userIds: string[] },
  ): Promise<string[]> {
    const manager = this.records.manager;
    const found = await manager.query<Array<{ key: string }>>(
      `SELECT blob_key::text AS key FROM storage_records WHERE id = ANY($2) AND blob_key = ANY($1::text[])
       UNION ALL
       SELECT blob_key::text AS key FROM storage_conflicts WHERE user_id = ANY($3) AND blob_key = ANY($1::text[])`,
      [keys, hints.recordIds, hints.userIds],
    );
    const seen = new Set(found.map((row) => row.key));
    const rest = keys.filter((key) => !seen.has(key));
    if (rest.length === 0) return [...seen];
    const more = await manager.query<Array<{ key: string }>>(
      `SELECT blob_key::text AS key FROM storage_records WHERE blob_key = ANY($1::text[])
       UNION ALL
       SELECT blob_key::text AS key FROM storage_conflicts WHERE blob_key = ANY($1::text[])`,
      [rest],
    );
    return [...seen, ...more.map((row) => row.key)];
  }
}
