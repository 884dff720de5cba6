import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Backups1795300260036 implements MigrationInterface {
  name = 'Backups1795300260036';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "backups" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "blob_key" character varying(300) NOT NULL, "version" integer NOT NULL, "timestamp" bigint NOT NULL, "checksum" character(64) NOT NULL, "size_bytes" bigint NOT NULL, "chunk_count" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_ca30ff369eddfc7dac3b35d0d3c" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_backups_user_created" ON "backups"  ("user_id", "created_at") `,
    );
    await queryRunner.query(
      `ALTER TABLE "backups" ADD CONSTRAINT "FK_5dec857c95469df8856e286c2af" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "backups" DROP CONSTRAINT "FK_5dec857c95469df8856e286c2af"`);
    await queryRunner.query(`DROP INDEX "public"."ix_backups_user_created"`);
    await queryRunner.query(`DROP TABLE "backups"`);
  }
}
