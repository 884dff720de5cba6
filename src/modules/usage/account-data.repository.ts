import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** What an account's export and erasure read and remove of the usage tables. */
@Injectable()
export class UsageAccountDataRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  daysOf(userId: string): Promise<Array<Record<string, unknown>>> {
    return this.db.query(
      `SELECT day::text AS day, requests, prompt_tokens, completion_tokens, cost_micro_usd::int8 AS cost_micro_usd
         FROM usage_days WHERE user_id = $1 ORDER BY day`,
      [userId],
    );
  }

  callsAfter(userId: string, after: string | null, limit: number): Promise<Array<Record<string, unknown>>> {
    return this.db.query(
      `SELECT id, day::text AS day, model, kind, prompt_tokens, completion_tokens,
              cost_micro_usd::int8 AS cost_micro_usd, estimated, created_at
         FROM usage_calls WHERE user_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3`,
      [userId, after, limit],
    );
  }

  async deleteAll(userId: string): Promise<void> {
    await this.db.transaction(async (manager) => {
      await manager.query('DELETE FROM usage_calls WHERE user_id = $1', [userId]);
      await manager.query('DELETE FROM usage_days WHERE user_id = $1', [userId]);
    });
  }
}
