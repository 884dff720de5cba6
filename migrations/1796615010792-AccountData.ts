import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AccountData1796615010792 implements MigrationInterface {
  name = 'AccountData1796615010792';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "plugins" DROP CONSTRAINT "FK_48d6403dfcd0a99e82121bf83df"`);
    await queryRunner.query(
      `CREATE TABLE "audit_pseudonym_keys" ("subject_id" uuid NOT NULL, "secret" character(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_41d13f2e98c0df5a8b577a50d55" PRIMARY KEY ("subject_id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "account_erasures" ("id" uuid NOT NULL, "user_id" uuid, "email" character varying(320), "pseudonym" uuid NOT NULL, "status" character varying(16) NOT NULL, "requested_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "scheduled_for" TIMESTAMP WITH TIME ZONE NOT NULL, "progress" jsonb NOT NULL DEFAULT '{}', "attempts" integer NOT NULL DEFAULT '0', "last_error" character varying(500), "next_attempt_at" TIMESTAMP WITH TIME ZONE, "lease_until" TIMESTAMP WITH TIME ZONE, "completed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_e5c149a691c6c7cdb2af606d377" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_account_erasures_user_live" ON "account_erasures"  ("user_id") WHERE status IN ('scheduled', 'running', 'retrying')`,
    );
    await queryRunner.query(`CREATE INDEX "ix_account_erasures_status" ON "account_erasures"  ("status") `);
    await queryRunner.query(
      `CREATE TABLE "account_exports" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "status" character varying(16) NOT NULL, "include_backups" boolean NOT NULL DEFAULT false, "blob_key" character varying(300), "size_bytes" bigint, "checksum" character(64), "error" character varying(300), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, "expires_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_c49d6050118c14f7bf1abb8176c" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_account_exports_status" ON "account_exports"  ("status") `);
    await queryRunner.query(
      `CREATE INDEX "ix_account_exports_user_created" ON "account_exports"  ("user_id", "created_at") `,
    );
    await queryRunner.query(`ALTER TABLE "audit_log" ADD "hash_version" smallint NOT NULL DEFAULT '1'`);
    await queryRunner.query(`ALTER TABLE "audit_log" ADD "actor_ref" uuid`);
    await queryRunner.query(`ALTER TABLE "audit_log" ADD "subject_ref" uuid`);
    await queryRunner.query(`ALTER TABLE "audit_log" ADD "personal_digest" character(64)`);
    await queryRunner.query(`ALTER TABLE "audit_log" ADD "personal_salt" character(64)`);
    await queryRunner.query(`ALTER TABLE "audit_log" ADD "personal_erased_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "plugins" ADD "unlisted_at" TIMESTAMP WITH TIME ZONE`);
    // Still append-only, with one exception: an account erasure may blank an entry's personal fields
    // (and its salt), and change nothing the chain hash covers. Anything else is refused as before.
    await queryRunner.query(
      `CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
         IF TG_OP = 'UPDATE'
            AND NEW.id = OLD.id AND NEW.event_type = OLD.event_type AND NEW.created_at = OLD.created_at
            AND NEW.prev_hash = OLD.prev_hash AND NEW.chain_hash = OLD.chain_hash
            AND NEW.hash_version = OLD.hash_version
            AND NEW.actor_ref IS NOT DISTINCT FROM OLD.actor_ref AND NEW.subject_ref IS NOT DISTINCT FROM OLD.subject_ref
            AND NEW.personal_digest IS NOT DISTINCT FROM OLD.personal_digest
            AND NEW.actor_id IS NULL AND NEW.subject_id IS NULL AND NEW.reason IS NULL AND NEW.data = '{}'::jsonb
            AND NEW.personal_salt IS NULL AND NEW.personal_erased_at IS NOT NULL THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'audit_log is append-only';
       END $$`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$`,
    );
    await queryRunner.query(`ALTER TABLE "plugins" DROP COLUMN "unlisted_at"`);
    await queryRunner.query(`ALTER TABLE "audit_log" DROP COLUMN "personal_erased_at"`);
    await queryRunner.query(`ALTER TABLE "audit_log" DROP COLUMN "personal_salt"`);
    await queryRunner.query(`ALTER TABLE "audit_log" DROP COLUMN "personal_digest"`);
    await queryRunner.query(`ALTER TABLE "audit_log" DROP COLUMN "subject_ref"`);
    await queryRunner.query(`ALTER TABLE "audit_log" DROP COLUMN "actor_ref"`);
    await queryRunner.query(`ALTER TABLE "audit_log" DROP COLUMN "hash_version"`);
    await queryRunner.query(`DROP INDEX "public"."ix_account_exports_user_created"`);
    await queryRunner.query(`DROP INDEX "public"."ix_account_exports_status"`);
    await queryRunner.query(`DROP TABLE "account_exports"`);
    await queryRunner.query(`DROP INDEX "public"."ix_account_erasures_status"`);
    await queryRunner.query(`DROP INDEX "public"."uq_account_erasures_user_live"`);
    await queryRunner.query(`DROP TABLE "account_erasures"`);
    await queryRunner.query(`DROP TABLE "audit_pseudonym_keys"`);
    await queryRunner.query(
      `ALTER TABLE "plugins" ADD CONSTRAINT "FK_48d6403dfcd0a99e82121bf83df" FOREIGN KEY ("author_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }
}
