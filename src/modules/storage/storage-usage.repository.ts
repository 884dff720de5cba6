import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import { StorageUsage } from './entities/storage-usage.entity.js';
import type { UsageLock } from './storage-quota.js';

/** The per-user usage row: bytes used by records and vectors, and the next change seq. */
@Injectable()
export class StorageUsageRepository {
  constructor(@InjectRepository(StorageUsage) private readonly usage: Repository<StorageUsage>) {}

  /**
   * Locks the user's usage row for the rest of `manager`'s transaction,
   * creating it on first use: one statement, and the DO UPDATE takes the row
   * lock either way.
   */
  async lock(manager: EntityManager, userId: string): Promise<UsageLock> {
    const [row] = await manager.query<Array<{ used_bytes: string; next_seq: string; alerted: boolean }>>(
      `INSERT INTO storage_usage (user_id) VALUES ($1)
       ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id
       RETURNING used_bytes, next_seq, alerted`,
      [userId],
    );
    return { usedBytes: Number(row.used_bytes), nextSeq: Number(row.next_seq), alerted: row.alerted };
  }

  /** Writes the usage under the lock; `alerted` undefined keeps the stored flag. */
  async save(
    manager: EntityManager,
    userId: string,
    usage: { usedBytes: number; nextSeq: number; alerted?: boolean },
  ): Promise<void> {
    await manager.getRepository(StorageUsage).update(
      { userId },
      {
        usedBytes: String(Math.max(0, usage.usedBytes)),
        nextSeq: String(usage.nextSeq),
        ...(usage.alerted === undefined ? {} : { alerted: usage.alerted }),
      },
    );
  }

  async usedBytes(userId: string): Promise<number> {
    const row = await this.usage.findOne({ where: { userId }, select: { usedBytes: true } });
    return Number(row?.usedBytes ?? 0);
  }
}
