import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, type Repository } from 'typeorm';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { Backup } from './entities/backup.entity.js';

/** The backups table: every query is scoped to the backup's owner. */
@Injectable()
export class BackupRepository {
  constructor(@InjectRepository(Backup) private readonly backups: Repository<Backup>) {}

  /**
   * Serialises one user's backup commits for the rest of the transaction: a
   * transaction-scoped advisory lock on a key derived from the namespace
   * `backup:` and the user id (64-bit hash; a collision between two users
   * only makes them wait for each other, never lets two commits of one user
   * run together).
   */
  async lockOwner(tx: Tx, userId: string): Promise<void> {
    const manager = managerOf(tx);
    await manager.query("SELECT pg_advisory_xact_lock(hashtextextended('backup:' || $1, 0))", [userId]);
  }

  async usedBytes(userId: string, tx?: Tx): Promise<number> {
    const backups = managerOf(tx, this.backups.manager).getRepository(Backup);
    const row = await backups
      .createQueryBuilder('backup')
      .select('COALESCE(sum(backup.size_bytes), 0)::text', 'used')
      .where('backup.user_id = :userId', { userId })
      .getRawOne<{ used: string }>();
    return Number(row?.used ?? 0);
  }

  async insert(tx: Tx, backup: Backup): Promise<Backup> {
    const manager = managerOf(tx);
    const result = await manager.getRepository(Backup).insert(backup);
    return Object.assign(backup, result.generatedMaps[0]);
  }

  /** Newest first (ties by id, so the order is stable). */
  async listForOwner(userId: string): Promise<Backup[]> {
    return this.backups.find({ where: { userId }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  /** The user's backup with this id, or the newest when id is undefined. */
  async getForOwner(userId: string, id: string | undefined): Promise<Backup | null> {
    return this.backups.findOne({
      where: { userId, ...(id ? { id } : {}) },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
  }

  /** Deletes the user's backup; answers it, or null when the user has none with this id. */
  async deleteForOwner(tx: Tx, userId: string, id: string): Promise<Backup | null> {
    const manager = managerOf(tx);
    const backups = manager.getRepository(Backup);
    const backup = await backups.findOne({ where: { id, userId }, lock: { mode: 'pessimistic_write' } });
    if (backup) await backups.delete({ id });
    return backup;
  }

  /** Deletes all but the user's newest `keep` backups; answers their blob keys. */
  async deleteAllButNewest(userId: string, keep: number): Promise<string[]> {
    const old = await this.backups.find({
      select: { id: true, blobKey: true },
      where: { userId },
      order: { createdAt: 'DESC', id: 'DESC' },
      skip: keep,
    });
    if (old.length) await this.backups.delete({ id: In(old.map((backup) => backup.id)) });
    return old.map((backup) => backup.blobKey);
  }

  /**
   * Of `keys` (backup keys, for the blob sweep), those a backup references:
   * first through the primary key (the ids the keys name), then what remains
   * by the key itself, which alone decides that a key is unreferenced.
   */
  async referencedBlobKeys(keys: string[], backupIds: string[]): Promise<string[]> {
    const manager = this.backups.manager;
    const found = await manager.query<Array<{ key: string }>>(
      'SELECT blob_key::text AS key FROM backups WHERE id = ANY($2) AND blob_key = ANY($1::text[])',
      [keys, backupIds],
    );
    const seen = new Set(found.map((row) => row.key));
    const rest = keys.filter((key) => !seen.has(key));
    if (rest.length === 0) return [...seen];
    const more = await manager.query<Array<{ key: string }>>(
      'SELECT blob_key::text AS key FROM backups WHERE blob_key = ANY($1::text[])',
      [rest],
    );
    return [...seen, ...more.map((row) => row.key)];
  }
}
