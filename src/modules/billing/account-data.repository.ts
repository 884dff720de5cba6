import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export interface SubscriptionExportRow {
  tier: string;
  status: string;
  stripe_subscription_id: string | null;
  stripe_customer_id: string | null;
  current_period_end: Date | null;
  cancel_at_period_end: boolean;
  seats: number;
  created_at: Date;
}

/** What an account's export and erasure read and change of the billing tables. */
@Injectable()
export class BillingAccountDataRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async subscriptionOf(userId: string): Promise<SubscriptionExportRow | null> {
    const [row] = await this.db.query<SubscriptionExportRow[]>(
      `SELECT tier, status, stripe_subscription_id, stripe_customer_id, current_period_end, cancel_at_period_end,
              seats, created_at FROM subscriptions WHERE user_id = $1`,
      [userId],
    );
    return row ?? null;
  }

  async setCancelAtPeriodEnd(userId: string, cancel: boolean): Promise<void> {
    await this.db.query(
      'UPDATE subscriptions SET cancel_at_period_end = $2, updated_at = now() WHERE user_id = $1',
      [userId, cancel],
    );
  }

  /**
   * The subscription row, and the payload of every stored webhook event that
   * names the account or its customer (their ids stay: they are what makes a
   * replayed event a no-op).
   */
  async erase(userId: string, customerIds: string[]): Promise<void> {
    await this.db.transaction(async (manager) => {
      await manager.query('DELETE FROM subscriptions WHERE user_id = $1', [userId]);
      await manager.query(
        `UPDATE stripe_events SET payload = '{"redacted": "account erased"}'::jsonb
          WHERE strpos(payload::text, $1) > 0 OR EXISTS (SELECT 1 FROM unnest($2::text[]) c WHERE strpos(payload::text, c) > 0)`,
        [userId, customerIds],
      );
    });
  }
}
