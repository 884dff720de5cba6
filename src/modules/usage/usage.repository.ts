import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, MoreThan } from 'typeorm';
import { DatabaseService } from '../../database/database.service.js';
import { returningRows } from '../../database/sql.js';
import { UsageCall } from './entities/usage-call.entity.js';
import { UsageDay } from './entities/usage-day.entity.js';

export interface DayTotals {
  day: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costMicroUsd: number;
  /** Calls of the day recorded with our estimate, not the provider's figures (0 where not read). */
  estimatedRequests: number;
}

export interface UserDayTotals extends DayTotals {
  userId: string;
}

const num = (v: unknown) => Number(v ?? 0);

/**
 * The usage tables: the per-call ledger and the per-day totals and reservations.
 * The statements every metered model call runs (reserve, settle, and the budget
 * check of a stream) are named prepared statements on the driver's pool: a chat
 * request makes up to seven model calls, and parsing, planning and TypeORM's
 * query-runner bookkeeping for each cost more than running them (issue 38).
 */
@Injectable()
export class UsageRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly database: DatabaseService,
  ) {}

  /**
   * Holds `amount` against the day's budget if spent + held + amount stays
   * within it: one conditional UPDATE, so parallel reservations serialize on
   * the row and none can overshoot. False when the budget cannot cover it.
   */
  async reserve(userId: string, day: string, amount: number, budget: number): Promise<boolean> {
    // One statement: the day's first call creates the row, later ones add to it while it fits.
    const rows = await this.database.preparedQuery(
      'usage_reserve',
      `INSERT INTO usage_days (user_id, day, reserved_micro_usd)
           SELECT $1::uuid, $2::date, $3::bigint WHERE $3::bigint <= $4::bigint
         ON CONFLICT (user_id, day) DO UPDATE
           SET reserved_micro_usd = usage_days.reserved_micro_usd + EXCLUDED.reserved_micro_usd
           WHERE usage_days.cost_micro_usd + usage_days.reserved_micro_usd + EXCLUDED.reserved_micro_usd <= $4::bigint
         RETURNING 1`,
      [userId, day, amount, budget],
    );
    return rows.length === 1;
  }

  /** What the day has spent plus what running calls hold (0 for a day without calls). */
  async committed(userId: string, day: string): Promise<number> {
    const [row] = await this.database.preparedQuery<{ total: string }>(
      'usage_committed',
      `SELECT cost_micro_usd + reserved_micro_usd AS total FROM usage_days WHERE user_id = $1 AND day = $2`,
      [userId, day],
    );
    return num(row?.total);
  }

  /** Gives back what a failed call held. */
  async release(userId: string, day: string, amount: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE usage_days SET reserved_micro_usd = GREATEST(0, reserved_micro_usd - $3)
        WHERE user_id = $1 AND day = $2`,
      [userId, day, amount],
    );
  }

  /**
   * Records a finished call: its ledger row and the day's totals in one
   * transaction, and gives back what it held. Returns the day's new spend.
   */
  async settle(call: Omit<UsageCall, 'id' | 'createdAt' | 'user'>, reserved: number): Promise<number> {
    // One statement (so one implicit transaction): the ledger row and the totals land together.
    const [row] = await this.database.preparedQuery<{ cost: string }>(
      'usage_settle',
      `WITH call AS (
           INSERT INTO usage_calls
             (id, user_id, day, model, kind, prompt_tokens, completion_tokens, cost_micro_usd, estimated)
           VALUES ($7, $1, $2, $8, $9, $4, $5, $6, $10)
         )
         UPDATE usage_days SET
           reserved_micro_usd = GREATEST(0, reserved_micro_usd - $3),
           requests = requests + 1,
           prompt_tokens = prompt_tokens + $4,
           completion_tokens = completion_tokens + $5,
           cost_micro_usd = cost_micro_usd + $6
         WHERE user_id = $1 AND day = $2
         RETURNING cost_micro_usd AS cost`,
      [
        call.userId,
        call.day,
        reserved,
        call.promptTokens,
        call.completionTokens,
        call.costMicroUsd,
        randomUUID(),
        call.model,
        call.kind,
        call.estimated,
      ],
    );
    return num(row?.cost);
  }

  /** Marks the day's alert as sent; true only for the one caller that marked it. */
  async claimAlert(userId: string, day: string): Promise<boolean> {
    const rows = await returningRows(
      this.dataSource,
      `UPDATE usage_days SET alerted_at = now() WHERE user_id = $1 AND day = $2 AND alerted_at IS NULL RETURNING 1`,
      [userId, day],
    );
    return rows.length === 1;
  }

  /** Undoes claimAlert when the alert could not be sent, so the next call sends it. */
  async unclaimAlert(userId: string, day: string): Promise<void> {
    await this.dataSource.query(`UPDATE usage_days SET alerted_at = NULL WHERE user_id = $1 AND day = $2`, [
      userId,
      day,
    ]);
  }

  /** The user's totals for the days from `from` to `to` (inclusive) that have any. */
  async days(userId: string, from: string, to: string): Promise<DayTotals[]> {
    // The estimated calls are counted from the ledger (on its user-and-day index), so the totals row
    // keeps the one shape the ledger check compares.
    const rows = await this.dataSource.query<Array<Record<string, unknown>>>(
      `SELECT to_char(d.day, 'YYYY-MM-DD') AS day, d.requests, d.prompt_tokens, d.completion_tokens,
              d.cost_micro_usd,
              (SELECT count(*) FROM usage_calls c
                WHERE c.user_id = d.user_id AND c.day = d.day AND c.estimated) AS estimated_requests
         FROM usage_days d
        WHERE d.user_id = $1 AND d.day BETWEEN $2::date AND $3::date
        ORDER BY d.day`,
      [userId, from, to],
    );
    return rows.map((row) => ({
      day: String(row.day),
      requests: num(row.requests),
      promptTokens: num(row.prompt_tokens),
      completionTokens: num(row.completion_tokens),
      costMicroUsd: num(row.cost_micro_usd),
      estimatedRequests: num(row.estimated_requests),
    }));
  }

  /** Every user's totals for one day, the biggest spenders first (ties by user id). */
  async usersOn(day: string, limit: number): Promise<UserDayTotals[]> {
    const rows = await this.dataSource.getRepository(UsageDay).find({
      where: { day, requests: MoreThan(0) },
      order: { costMicroUsd: 'DESC', userId: 'ASC' },
      take: limit,
    });
    return rows.map((row) => ({ ...totalsOf(row), userId: row.userId }));
  }

  /** Days whose totals differ from the sums of their ledger rows (the ledger check). */
  async mismatches(
    day: string,
  ): Promise<Array<{ userId: string; field: string; totals: number; ledger: number }>> {
    const rows = await this.dataSource.query<Array<Record<string, unknown>>>(
      `SELECT COALESCE(d.user_id, l.user_id) AS user_id, d.requests, d.prompt_tokens, d.completion_tokens, d.cost_micro_usd,
              COALESCE(l.requests, 0) AS l_requests, COALESCE(l.prompt_tokens, 0) AS l_prompt_tokens,
              COALESCE(l.completion_tokens, 0) AS l_completion_tokens, COALESCE(l.cost_micro_usd, 0) AS l_cost_micro_usd
         FROM (SELECT * FROM usage_days WHERE day = $1) d
         FULL JOIN (SELECT user_id, count(*) AS requests, sum(prompt_tokens) AS prompt_tokens,
                           sum(completion_tokens) AS completion_tokens, sum(cost_micro_usd) AS cost_micro_usd
                      FROM usage_calls WHERE day = $1 GROUP BY user_id) l ON l.user_id = d.user_id`,
      [day],
    );
    const out: Array<{ userId: string; field: string; totals: number; ledger: number }> = [];
    for (const row of rows) {
      for (const field of ['requests', 'prompt_tokens', 'completion_tokens', 'cost_micro_usd']) {
        const totals = num(row[field]);
        const ledger = num(row[`l_${field}`]);
        if (totals !== ledger) out.push({ userId: String(row.user_id), field, totals, ledger });
      }
    }
    return out;
  }
}

function totalsOf(day: UsageDay): DayTotals {
  return {
    day: day.day,
    requests: day.requests,
    promptTokens: day.promptTokens,
    completionTokens: day.completionTokens,
    costMicroUsd: day.costMicroUsd,
    estimatedRequests: 0,
  };
}
