import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The billing module publishes the subscription state the effective-tier rule
 * needs as the read-only view `subscription_tiers`, so the auth module reads
 * it in the one query that authenticates a request without touching billing's
 * tables or importing billing's code.
 */
export class SubscriptionTiersView1795852334721 implements MigrationInterface {
  name = 'SubscriptionTiersView1795852334721';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE VIEW "subscription_tiers" AS SELECT "user_id", "tier", "status", "current_period_end" FROM "subscriptions"`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP VIEW "subscription_tiers"`);
  }
}
