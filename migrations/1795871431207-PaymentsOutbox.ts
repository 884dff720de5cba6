import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payouts through an outbox (a pending payout row with its idempotency key,
 * committed before Stripe is called, and the ledger rows it claims), pending
 * and canceled purchases (delayed payments), and duplicate payments refunded.
 * Payouts made before this are paid already: they keep `status` 'paid' and
 * their ledger rows are linked to them.
 */
export class PaymentsOutbox1795871431207 implements MigrationInterface {
  name = 'PaymentsOutbox1795871431207';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "plugin_duplicate_payments" ("id" uuid NOT NULL, "payment_id" character varying(255) NOT NULL, "buyer_id" uuid NOT NULL, "plugin_id" character varying(64) NOT NULL, "owned_by_payment_id" character varying(255) NOT NULL, "amount_cents" integer NOT NULL, "currency" character varying(3) NOT NULL, "status" character varying(16) NOT NULL DEFAULT 'refund_pending', "refund_id" character varying(255), "refunded_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "ck_plugin_duplicate_payments_status" CHECK (status IN ('refund_pending', 'refunded')), CONSTRAINT "PK_8ec1312f9d693072c79c14abd9e" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_plugin_duplicate_payments_payment" ON "plugin_duplicate_payments"  ("payment_id") `,
    );
    await queryRunner.query(
      `ALTER TABLE "plugin_payouts" ADD "status" character varying(16) NOT NULL DEFAULT 'paid'`,
    );
    await queryRunner.query(`ALTER TABLE "plugin_payouts" ADD "idempotency_key" character varying(255)`);
    await queryRunner.query(`ALTER TABLE "plugin_payouts" ADD "paid_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`UPDATE "plugin_payouts" SET "paid_at" = "created_at"`);
    await queryRunner.query(`ALTER TABLE "plugin_revenue_events" ADD "payout_id" uuid`);
    await queryRunner.query(
      `UPDATE "plugin_revenue_events" e SET "payout_id" = p."id" FROM "plugin_payouts" p
        WHERE e."developer_id" = p."developer_id" AND e."transfer_id" = p."stripe_ids"`,
    );
    await queryRunner.query(`ALTER TABLE "plugin_payouts" ALTER COLUMN "stripe_ids" DROP NOT NULL`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_plugin_payouts_idempotency_key" ON "plugin_payouts"  ("idempotency_key") `,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_plugin_revenue_events_payout" ON "plugin_revenue_events"  ("payout_id") `,
    );
    await queryRunner.query(
      `ALTER TABLE "plugin_payouts" ADD CONSTRAINT "ck_plugin_payouts_status" CHECK (status IN ('pending', 'paid'))`,
    );
    await queryRunner.query(`ALTER TABLE "plugin_purchases" DROP CONSTRAINT "ck_plugin_purchases_status"`);
    await queryRunner.query(
      `ALTER TABLE "plugin_purchases" ADD CONSTRAINT "ck_plugin_purchases_status" CHECK (status IN ('pending', 'paid', 'refunded', 'canceled'))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM "plugin_purchases" WHERE "status" IN ('pending', 'canceled')`);
    await queryRunner.query(`ALTER TABLE "plugin_purchases" DROP CONSTRAINT "ck_plugin_purchases_status"`);
    await queryRunner.query(
      `ALTER TABLE "plugin_purchases" ADD CONSTRAINT "ck_plugin_purchases_status" CHECK (status IN ('paid', 'refunded'))`,
    );
    await queryRunner.query(`ALTER TABLE "plugin_payouts" DROP CONSTRAINT "ck_plugin_payouts_status"`);
    await queryRunner.query(`DROP INDEX "public"."ix_plugin_revenue_events_payout"`);
    await queryRunner.query(`DROP INDEX "public"."uq_plugin_payouts_idempotency_key"`);
    // Unfinished payouts give their ledger rows back (no money moved that the old schema could record).
    await queryRunner.query(`DELETE FROM "plugin_payouts" WHERE "status" = 'pending'`);
    await queryRunner.query(`ALTER TABLE "plugin_payouts" ALTER COLUMN "stripe_ids" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "plugin_revenue_events" DROP COLUMN "payout_id"`);
    await queryRunner.query(`ALTER TABLE "plugin_payouts" DROP COLUMN "paid_at"`);
    await queryRunner.query(`ALTER TABLE "plugin_payouts" DROP COLUMN "idempotency_key"`);
    await queryRunner.query(`ALTER TABLE "plugin_payouts" DROP COLUMN "status"`);
    await queryRunner.query(`DROP INDEX "public"."uq_plugin_duplicate_payments_payment"`);
    await queryRunner.query(`DROP TABLE "plugin_duplicate_payments"`);
  }
}
