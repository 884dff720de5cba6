import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { StorageUsage } from './entities/storage-usage.entity.js';
import type { UsageLock } from './storage-quota.js';

/** The per-user usage row: bytes used by records and vectors, and the next change seq. */
@Injectable()
export class StorageUsageRepository {
  constructor(@InjectRepository(StorageUsage) private readonly usage: Repository<StorageUsage>) {}

  /**
   * Locks the user's usage row for the rest of `tx`,
   * creating it on first use: one statement, and the DO UPDATE takes the row
   * lock either way.
   */
  async lock(tx: Tx, userId: string): Promise<UsageLock> {
    const manager = managerOf(tx);
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
    tx: Tx,
    userId: string,
    usage: { usedBytes: number; nextSeq: number; alerted?: boolean },
  ): Promise<void> {
    const manager = managerOf(tx);
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
