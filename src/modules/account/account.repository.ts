import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { isUniqueViolation, returningRows } from '../../database/sql.js';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { AccountErasure } from './entities/account-erasure.entity.js';
import { AccountExport } from './entities/account-export.entity.js';

/** A running job that has not touched its row for this long has crashed: another run takes it. */
const LEASE = `interval '10 minutes'`;

/** Exports and erasures: the account module's tables. */
@Injectable()
export class AccountRepository {
  constructor(
    @InjectRepository(AccountExport) private readonly exports: Repository<AccountExport>,
    @InjectRepository(AccountErasure) private readonly erasures: Repository<AccountErasure>,
  ) {}

  /**
   * Queues an export unless one is queued or running (`in_progress`) or
   * `perDay` were made since `since` (`daily`, with their times, oldest
   * first). One transaction under a per-account advisory lock, so concurrent
   * requests are counted one after the other; the partial unique index on
   * the live export is the last word should anything else insert one.
   */
  async queueExport(
    row: Pick<AccountExport, 'userId' | 'includeBackups'>,
    since: Date,
    perDay: number,
  ): Promise<{ queued: AccountExport } | { refused: 'in_progress' } | { refused: 'daily'; recent: Date[] }> {
    try {
      return await this.exports.manager.transaction(async (manager) => {
        await manager.query("SELECT pg_advisory_xact_lock(hashtextextended('account-export:' || $1, 0))", [
          row.userId,
        ]);
        const rows = await manager.query<Array<{ status: string; created_at: Date }>>(
          `SELECT status, created_at FROM account_exports
            WHERE user_id = $1 AND (status IN ('queued', 'running') OR created_at > $2) ORDER BY created_at`,
          [row.userId, since],
        );
        if (rows.some((r) => r.status === 'queued' || r.status === 'running')) {
          return { refused: 'in_progress' as const };
        }
        const recent = rows.map((r) => new Date(r.created_at)).filter((at) => at > since);
        if (recent.length >= perDay) return { refused: 'daily' as const, recent };
        const queued = await manager.save(Object.assign(new AccountExport(), { ...row, status: 'queued' }));
        return { queued };
      });
    } catch (err) {
      if (isUniqueViolation(err)) return { refused: 'in_progress' };
      throw err;
    }
  }

  findExportForOwner(userId: string, id: string): Promise<AccountExport | null> {
    return this.exports.findOneBy({ id, userId });
  }

  findExport(id: string): Promise<AccountExport | null> {
    return this.exports.findOneBy({ id });
  }

  /** Takes the oldest queued export (or one whose run crashed) for this instance to write. */
  async claimExport(): Promise<AccountExport | null> {
    const [row] = await returningRows<{ id: string }>(
      this.exports,
      `UPDATE account_exports SET status = 'running', started_at = now()
        WHERE id = (SELECT id FROM account_exports
                     WHERE status = 'queued' OR (status = 'running' AND started_at < now() - ${LEASE})
                     ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING id`,
      [],
    );
    return row ? this.findExport(row.id) : null;
  }

  async finishExport(id: string, fields: Partial<AccountExport>): Promise<void> {
    await this.exports.update({ id }, { ...fields, finishedAt: new Date() });
  }

  /** Ready exports past their expiry, and failed ones, that still name an archive key. */
  expiredExports(limit: number): Promise<AccountExport[]> {
    return this.exports
      .createQueryBuilder('e')
      .where(
        `e.blob_key IS NOT NULL AND ((e.status = 'ready' AND e.expires_at < now()) OR e.status = 'failed')`,
      )
      .limit(limit)
      .getMany();
  }

  async markExpired(id: string): Promise<void> {
    await this.exports.query(
      `UPDATE account_exports SET status = CASE WHEN status = 'ready' THEN 'expired' ELSE status END,
              blob_key = NULL WHERE id = $1`,
      [id],
    );
  }

  exportKeysOf(userId: string): Promise<AccountExport[]> {
    return this.exports.findBy({ userId });
  }

  async deleteExportsOf(userId: string): Promise<void> {
    await this.exports.delete({ userId });
  }

  /** Export rows that reference any of `keys` (the blob sweep's question). */
  async referencedKeys(keys: string[]): Promise<string[]> {
    const rows = await this.exports.query<Array<{ blob_key: string }>>(
      'SELECT blob_key FROM account_exports WHERE blob_key = ANY($1::text[])',
      [keys],
    );
    return rows.map((row) => row.blob_key);
  }

  async insertErasure(
    tx: Tx,
    row: Pick<AccountErasure, 'userId' | 'email' | 'pseudonym' | 'scheduledFor'>,
  ): Promise<AccountErasure> {
    return managerOf(tx).save(Object.assign(new AccountErasure(), { ...row, status: 'scheduled' }));
  }

  liveErasureOf(userId: string): Promise<AccountErasure | null> {
    return this.erasures
      .createQueryBuilder('e')
      .where(`e.user_id = :userId AND e.status IN ('scheduled', 'running', 'retrying')`, { userId })
      .getOne();
  }

  /** Cancels a scheduled erasure nothing of which has run yet; false when there is none. */
  async cancelErasure(tx: Tx, userId: string): Promise<boolean> {
    const rows = await returningRows(
      managerOf(tx),
      `UPDATE account_erasures SET status = 'canceled', completed_at = now(), user_id = NULL, email = NULL
        WHERE user_id = $1 AND status = 'scheduled' AND progress = '{}'::jsonb AND scheduled_for > now() RETURNING id`,
      [userId],
    );
    return rows.length > 0;
  }

  /** Cancels an erasure this instance claimed before anything of it ran (the account is in use again). */
  async cancelClaimed(id: string): Promise<void> {
    await this.erasures.query(
      `UPDATE account_erasures SET status = 'canceled', completed_at = now(), user_id = NULL, email = NULL,
              lease_until = NULL, next_attempt_at = NULL WHERE id = $1 AND progress = '{}'::jsonb`,
      [id],
    );
  }

  /** Takes a due erasure (or `id`, due or not), or one whose run crashed, for this instance to run. */
  async claimErasure(id?: string): Promise<AccountErasure | null> {
    const [row] = await returningRows<{ id: string }>(
      this.erasures,
      `UPDATE account_erasures SET status = 'running', lease_until = now() + ${LEASE}, attempts = attempts + 1
        WHERE id = (SELECT id FROM account_erasures
                     WHERE ($1::uuid IS NOT NULL AND id = $1 AND status IN ('scheduled', 'retrying'))
                        OR ($1::uuid IS NULL AND status IN ('scheduled', 'retrying') AND scheduled_for <= now()
                            AND (next_attempt_at IS NULL OR next_attempt_at <= now()))
                        OR (status = 'running' AND lease_until < now() AND ($1::uuid IS NULL OR id = $1))
                     ORDER BY scheduled_for LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING id`,
      [id ?? null],
    );
    return row ? this.erasures.findOneBy({ id: row.id }) : null;
  }

  async saveProgress(id: string, progress: Record<string, number>): Promise<void> {
    await this.erasures.query(
      `UPDATE account_erasures SET progress = $2::jsonb, lease_until = now() + ${LEASE} WHERE id = $1`,
      [id, JSON.stringify(progress)],
    );
  }

  async retryErasureLater(id: string, error: string, retryMs: number): Promise<void> {
    await this.erasures.query(
      `UPDATE account_erasures SET status = 'retrying', last_error = $2, lease_until = NULL,
              next_attempt_at = now() + make_interval(secs => $3::float8 / 1000) WHERE id = $1`,
      [id, error.slice(0, 500), retryMs],
    );
  }

  /** Done: only the pseudonym and the times remain. */
  async completeErasure(id: string): Promise<void> {
    await this.erasures.query(
      `UPDATE account_erasures SET status = 'completed', completed_at = now(), user_id = NULL, email = NULL,
              last_error = NULL, lease_until = NULL, next_attempt_at = NULL WHERE id = $1`,
      [id],
    );
  }

  findErasure(id: string): Promise<AccountErasure | null> {
    return this.erasures.findOneBy({ id });
  }

  pageErasures(query: { status?: string; page: number; limit: number }): Promise<[AccountErasure[], number]> {
    return this.erasures.findAndCount({
      where: query.status ? { status: query.status as AccountErasure['status'] } : {},
      order: { scheduledFor: 'ASC', id: 'ASC' },
      skip: (query.page - 1) * query.limit,
      take: query.limit,
    });
  }
}
