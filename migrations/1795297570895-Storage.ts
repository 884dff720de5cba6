import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Storage1795297570895 implements MigrationInterface {
  name = 'Storage1795297570895';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "devices" ("user_id" uuid NOT NULL, "device_id" character varying(100) NOT NULL, "name" character varying(100), "last_sync_at" TIMESTAMP WITH TIME ZONE, "cursor_seq" bigint NOT NULL DEFAULT '0', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_c11e8dd1ff625b158b0c160e4e5" PRIMARY KEY ("user_id", "device_id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "storage_conflicts" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "record_id" uuid NOT NULL, "table_name" character varying(63) NOT NULL, "version" integer NOT NULL, "checksum" character(64) NOT NULL, "size_bytes" bigint NOT NULL, "blob_key" character varying(300) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_6c7e76c75e73674593d88d3ecbf" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_storage_conflicts_user_created" ON "storage_conflicts"  ("user_id", "created_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "storage_records" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "table_name" character varying(63) NOT NULL, "blob_key" character varying(300), "checksum" character(64) NOT NULL, "size_bytes" bigint NOT NULL, "version" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, "deleted_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_c681cc57860526841d3f15916c5" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_storage_records_deleted_at" ON "storage_records"  ("deleted_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_storage_records_user_table" ON "storage_records"  ("user_id", "table_name", "created_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "storage_changes" ("user_id" uuid NOT NULL, "seq" bigint NOT NULL, "record_id" uuid NOT NULL, "table_name" character varying(63) NOT NULL, "op" character varying(8) NOT NULL, "version" integer NOT NULL, "checksum" character(64) NOT NULL, "size_bytes" bigint NOT NULL, "changed_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_c0a5b7a703f673dc326451032fc" PRIMARY KEY ("user_id", "seq"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "storage_usage" ("user_id" uuid NOT NULL, "used_bytes" bigint NOT NULL DEFAULT '0', "next_seq" bigint NOT NULL DEFAULT '1', "alerted" boolean NOT NULL DEFAULT false, CONSTRAINT "PK_494d84776dbb5fd7b4141f215f6" PRIMARY KEY ("user_id"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "storage_records" ADD CONSTRAINT "FK_e6f90df5df8f75c95b66c3f2ffb" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "storage_records" DROP CONSTRAINT "FK_e6f90df5df8f75c95b66c3f2ffb"`);
    await queryRunner.query(`DROP TABLE "storage_usage"`);
    await queryRunner.query(`DROP TABLE "storage_changes"`);
    await queryRunner.query(`DROP INDEX "public"."ix_storage_records_user_table"`);
    await queryRunner.query(`DROP INDEX "public"."ix_storage_records_deleted_at"`);
    await queryRunner.query(`DROP TABLE "storage_records"`);
    await queryRunner.query(`DROP INDEX "public"."ix_storage_conflicts_user_created"`);
    await queryRunner.query(`DROP TABLE "storage_conflicts"`);
    await queryRunner.query(`DROP TABLE "devices"`);
  }
}
