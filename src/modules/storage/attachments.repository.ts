import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { returningRows } from '../../database/sql.js';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { StorageAttachment } from './entities/storage-attachment.entity.js';

/** Attachments of records: pending uploads with their quota reservations, and completed files. */
@Injectable()
export class AttachmentsRepository {
  constructor(
    @InjectRepository(StorageAttachment) private readonly attachments: Repository<StorageAttachment>,
  ) {}

  async insert(tx: Tx, attachment: StorageAttachment): Promise<StorageAttachment> {
    return managerOf(tx).getRepository(StorageAttachment).save(attachment);
  }

  /** The user's attachment, or null (another user's id is as missing as an unknown one). */
  async getForOwner(
    userId: string,
    id: string,
    options: { tx?: Tx; lock?: boolean } = {},
  ): Promise<StorageAttachment | null> {
    return managerOf(options.tx, this.attachments.manager)
      .getRepository(StorageAttachment)
      .findOne({
        where: { id, userId },
        ...(options.lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
      });
  }

  /** For the signed content route, where the link (not a session) names the attachment. */
  async getById(id: string): Promise<StorageAttachment | null> {
    return this.attachments.findOne({ where: { id } });
  }

  async listForRecord(userId: string, recordId: string): Promise<StorageAttachment[]> {
    return this.attachments.find({ where: { userId, recordId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async countPending(tx: Tx, userId: string): Promise<number> {
    return managerOf(tx)
      .getRepository(StorageAttachment)
      .count({ where: { userId, status: 'pending' } });
  }

  async markComplete(tx: Tx, id: string): Promise<Date> {
    const [row] = await returningRows<{ completed_at: Date }>(
      managerOf(tx),
      `UPDATE storage_attachments SET status = 'complete', completed_at = now(), upload_id = NULL
       WHERE id = $1 RETURNING completed_at`,
      [id],
    );
    return row.completed_at;
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await managerOf(tx).query(`DELETE FROM storage_attachments WHERE id = $1`, [id]);
  }

  /** Deletes every attachment of a record (with the record's deletion) and answers them. */
  async deleteForRecord(tx: Tx, userId: string, recordId: string): Promise<StorageAttachment[]> {
    const rows = await managerOf(tx).getRepository(StorageAttachment).find({ where: { userId, recordId } });
    if (rows.length) {
      await managerOf(tx).query(`DELETE FROM storage_attachments WHERE user_id = $1 AND record_id = $2`, [
        userId,
        recordId,
      ]);
    }
    return rows;
  }

  /** Pending uploads whose deadline passed before `now`, oldest first, a batch at a time. */
  async expiredPending(now: Date, limit: number): Promise<StorageAttachment[]> {
    return this.attachments
      .createQueryBuilder('a')
      .where(`a.status = 'pending' AND a.expires_at < :now`, { now })
      .orderBy('a.expires_at', 'ASC')
      .take(limit)
      .getMany();
  }

  /** Of `keys`, those an attachment row (pending or complete) still names. */
  async referencedBlobKeys(keys: string[], ids: string[]): Promise<string[]> {
    const found = await this.attachments.manager.query<Array<{ key: string }>>(
      `SELECT blob_key::text AS key FROM storage_attachments WHERE id = ANY($1::uuid[]) AND blob_key = ANY($2::text[])`,
      [ids, keys],
    );
    return found.map((row) => row.key);
  }
}
