import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Billing1795296805207 implements MigrationInterface {
  name = 'Billing1795296805207';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "stripe_events" ("id" character varying(255) NOT NULL, "type" character varying(128) NOT NULL, "created" TIMESTAMP WITH TIME ZONE NOT NULL, "payload" jsonb NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "processed_at" TIMESTAMP WITH TIME ZONE, "outcome" character varying(200), CONSTRAINT "PK_d3247bd5fc3f66b6982bbcdd897" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "subscriptions" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "stripe_subscription_id" character varying(255), "stripe_customer_id" character varying(255), "tier" character varying(16) NOT NULL, "status" character varying(32) NOT NULL, "current_period_end" TIMESTAMP WITH TIME ZONE, "cancel_at_period_end" boolean NOT NULL DEFAULT false, "seats" integer NOT NULL DEFAULT '1', "last_event_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "REL_d0a95ef8a28188364c546eb65c" UNIQUE ("user_id"), CONSTRAINT "PK_a87248d73155605cf782be9ee5e" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_subscriptions_stripe_subscription_id" ON "subscriptions"  ("stripe_subscription_id") WHERE stripe_subscription_id IS NOT NULL`,
    );
    await queryRunner.query(`ALTER TABLE "users" ADD "stripe_customer_id" character varying(255)`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_users_stripe_customer_id" ON "users"  ("stripe_customer_id") WHERE stripe_customer_id IS NOT NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE "subscriptions" ADD CONSTRAINT "FK_d0a95ef8a28188364c546eb65c1" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "subscriptions" DROP CONSTRAINT "FK_d0a95ef8a28188364c546eb65c1"`);
    await queryRunner.query(`DROP INDEX "public"."uq_users_stripe_customer_id"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "stripe_customer_id"`);
    await queryRunner.query(`DROP INDEX "public"."uq_subscriptions_stripe_subscription_id"`);
    await queryRunner.query(`DROP TABLE "subscriptions"`);
    await queryRunner.query(`DROP TABLE "stripe_events"`);
  }
}
