import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Usage1795840011463 implements MigrationInterface {
  name = 'Usage1795840011463';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "usage_calls" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "day" date NOT NULL, "model" character varying(100) NOT NULL, "kind" character varying(16) NOT NULL, "prompt_tokens" integer NOT NULL, "completion_tokens" integer NOT NULL, "cost_micro_usd" bigint NOT NULL, "estimated" boolean NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_56d30fd969b3d202b3689571fc7" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_usage_calls_day" ON "usage_calls"  ("day") `);
    await queryRunner.query(`CREATE INDEX "ix_usage_calls_user_day" ON "usage_calls"  ("user_id", "day") `);
    await queryRunner.query(
      `CREATE TABLE "usage_days" ("user_id" uuid NOT NULL, "day" date NOT NULL, "requests" integer NOT NULL DEFAULT '0', "prompt_tokens" bigint NOT NULL DEFAULT '0', "completion_tokens" bigint NOT NULL DEFAULT '0', "cost_micro_usd" bigint NOT NULL DEFAULT '0', "reserved_micro_usd" bigint NOT NULL DEFAULT '0', "alerted_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_7b6a5bc212f6eafa573939f3b0c" PRIMARY KEY ("user_id", "day"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "usage_calls" ADD CONSTRAINT "FK_4b1e0090340b2c97f8ab7c6b652" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "usage_days" ADD CONSTRAINT "FK_6cfd7b9495fda270395f82b8a40" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "usage_days" DROP CONSTRAINT "FK_6cfd7b9495fda270395f82b8a40"`);
    await queryRunner.query(`ALTER TABLE "usage_calls" DROP CONSTRAINT "FK_4b1e0090340b2c97f8ab7c6b652"`);
    await queryRunner.query(`DROP TABLE "usage_days"`);
    await queryRunner.query(`DROP INDEX "public"."ix_usage_calls_user_day"`);
    await queryRunner.query(`DROP INDEX "public"."ix_usage_calls_day"`);
    await queryRunner.query(`DROP TABLE "usage_calls"`);
  }
}
