import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** What an account's export and erasure read and change of the sales tables. */
@Injectable()
export class SalesAccountDataRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async ofAccount(userId: string): Promise<Record<string, unknown>> {
    const q = (sql: string) => this.db.query<Array<Record<string, unknown>>>(sql, [userId]);
    return {
      purchases: await q(
        `SELECT plugin_id, amount_cents, currency, payment_id, status, created_at
           FROM plugin_purchases WHERE user_id = $1 ORDER BY created_at`,
      ),
      sales_ledger: await q(
        `SELECT * FROM plugin_revenue_events WHERE developer_id = $1 OR buyer_id = $1 ORDER BY created_at`,
      ),
      payouts: await q(`SELECT * FROM plugin_payouts WHERE developer_id = $1 ORDER BY created_at`),
      developer_account: await q(
        `SELECT stripe_account_id, payouts_enabled, details_submitted, created_at
           FROM plugin_developer_accounts WHERE user_id = $1`,
      ),
    };
  }

  /**
   * The ledger (revenue events, payouts, duplicate payments) is kept with the
   * account replaced by its pseudonym; the account's own purchase records and
   * its Stripe connected account row go. One transaction, idempotent.
   */
  async pseudonymise(userId: string, pseudonym: string): Promise<void> {
    await this.db.transaction(async (manager) => {
      const swap = (sql: string) => manager.query(sql, [userId, pseudonym]);
      await swap('UPDATE plugin_revenue_events SET buyer_id = $2 WHERE buyer_id = $1');
      await swap('UPDATE plugin_revenue_events SET developer_id = $2 WHERE developer_id = $1');
      // The idempotency key names the developer too (`plugin-payout:<id>:<rows>`); it stays unique.
      await swap(
        `UPDATE plugin_payouts SET developer_id = $2,
                idempotency_key = replace(idempotency_key, developer_id::text, $2::uuid::text)
          WHERE developer_id = $1`,
      );
      await swap('UPDATE plugin_duplicate_payments SET buyer_id = $2 WHERE buyer_id = $1');
      await manager.query('DELETE FROM plugin_purchases WHERE user_id = $1', [userId]);
      await manager.query('DELETE FROM plugin_developer_accounts WHERE user_id = $1', [userId]);
    });
  }
}
