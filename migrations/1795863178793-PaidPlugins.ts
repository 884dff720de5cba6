import type { MigrationInterface, QueryRunner } from 'typeorm';

export class PaidPlugins1795863178793 implements MigrationInterface {
  name = 'PaidPlugins1795863178793';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "plugin_developer_accounts" ("user_id" uuid NOT NULL, "stripe_account_id" character varying(255) NOT NULL, "payouts_enabled" boolean NOT NULL DEFAULT false, "details_submitted" boolean NOT NULL DEFAULT false, "last_event_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_239f7a8eb2f8484b833049dc65e" PRIMARY KEY ("user_id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_plugin_developer_accounts_stripe" ON "plugin_developer_accounts"  ("stripe_account_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "plugin_payouts" ("id" uuid NOT NULL, "developer_id" uuid NOT NULL, "period" character(7) NOT NULL, "amount_cents" integer NOT NULL, "currency" character varying(3) NOT NULL, "stripe_ids" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_5208064a0738a9a0d7ccc5f2f40" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_plugin_payouts_developer_period" ON "plugin_payouts"  ("developer_id", "period") `,
    );
    await queryRunner.query(
      `CREATE TABLE "plugin_purchases" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "plugin_id" character varying(64) NOT NULL, "amount_cents" integer NOT NULL, "currency" character varying(3) NOT NULL, "payment_id" character varying(255) NOT NULL, "status" character varying(16) NOT NULL DEFAULT 'paid', "refunded_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "ck_plugin_purchases_amount" CHECK (amount_cents > 0), CONSTRAINT "ck_plugin_purchases_status" CHECK (status IN ('paid', 'refunded')), CONSTRAINT "PK_92a747f12f826ecd2a2f952e509" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_plugin_purchases_payment" ON "plugin_purchases"  ("payment_id") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_plugin_purchases_user_plugin" ON "plugin_purchases"  ("user_id", "plugin_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "plugin_revenue_events" ("id" uuid NOT NULL, "ref" character varying(255) NOT NULL, "kind" character varying(16) NOT NULL, "plugin_id" character varying(64) NOT NULL, "developer_id" uuid NOT NULL, "buyer_id" uuid NOT NULL, "payment_id" character varying(255) NOT NULL, "amount_cents" integer NOT NULL, "developer_share_cents" integer NOT NULL, "platform_share_cents" integer NOT NULL, "currency" character varying(3) NOT NULL, "period" character(7) NOT NULL, "transfer_id" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "ck_plugin_revenue_events_period" CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'), CONSTRAINT "ck_plugin_revenue_events_split" CHECK (developer_share_cents + platform_share_cents = amount_cents), CONSTRAINT "ck_plugin_revenue_events_kind" CHECK (kind IN ('sale', 'refund')), CONSTRAINT "PK_e0c3881f7f793b7aa42d96d6b0c" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_plugin_revenue_events_ref" ON "plugin_revenue_events"  ("ref") `,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_plugin_revenue_events_payment" ON "plugin_revenue_events"  ("payment_id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_plugin_revenue_events_developer_period" ON "plugin_revenue_events"  ("developer_id", "period") `,
    );
    await queryRunner.query(
      `ALTER TABLE "plugin_developer_accounts" ADD CONSTRAINT "FK_239f7a8eb2f8484b833049dc65e" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "plugin_purchases" ADD CONSTRAINT "FK_741a60f784231277aa7a68795c6" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "plugin_purchases" ADD CONSTRAINT "FK_173882f643fcba60204f678927f" FOREIGN KEY ("plugin_id") REFERENCES "plugins"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "plugin_purchases" DROP CONSTRAINT "FK_173882f643fcba60204f678927f"`,
    );
    await queryRunner.query(
      `ALTER TABLE "plugin_purchases" DROP CONSTRAINT "FK_741a60f784231277aa7a68795c6"`,
    );
    await queryRunner.query(
      `ALTER TABLE "plugin_developer_accounts" DROP CONSTRAINT "FK_239f7a8eb2f8484b833049dc65e"`,
    );
    await queryRunner.query(`DROP INDEX "public"."ix_plugin_revenue_events_developer_period"`);
    await queryRunner.query(`DROP INDEX "public"."ix_plugin_revenue_events_payment"`);
    await queryRunner.query(`DROP INDEX "public"."uq_plugin_revenue_events_ref"`);
    await queryRunner.query(`DROP TABLE "plugin_revenue_events"`);
    await queryRunner.query(`DROP INDEX "public"."uq_plugin_purchases_user_plugin"`);
    await queryRunner.query(`DROP INDEX "public"."uq_plugin_purchases_payment"`);
    await queryRunner.query(`DROP TABLE "plugin_purchases"`);
    await queryRunner.query(`DROP INDEX "public"."uq_plugin_payouts_developer_period"`);
    await queryRunner.query(`DROP TABLE "plugin_payouts"`);
    await queryRunner.query(`DROP INDEX "public"."uq_plugin_developer_accounts_stripe"`);
    await queryRunner.query(`DROP TABLE "plugin_developer_accounts"`);
  }
}
