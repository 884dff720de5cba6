import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Attachments: large encrypted files of a record, uploaded straight to the blob store (issue 39). */
export class Attachments1796620000000 implements MigrationInterface {
  name = 'Attachments1796620000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "storage_attachments" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "record_id" uuid NOT NULL, "size_bytes" bigint NOT NULL, "checksum" character(64) NOT NULL, "content_type" character varying(255), "blob_key" character varying(300) NOT NULL, "upload_id" character varying(1024), "part_size" bigint NOT NULL DEFAULT '0', "status" character varying(16) NOT NULL DEFAULT 'pending', "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "completed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "ck_storage_attachments_status" CHECK (status IN ('pending', 'complete')), CONSTRAINT "PK_storage_attachments" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_storage_attachments_record" ON "storage_attachments" ("user_id", "record_id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_storage_attachments_pending" ON "storage_attachments" ("expires_at") WHERE status = 'pending'`,
    );
    await queryRunner.query(
      `ALTER TABLE "storage_attachments" ADD CONSTRAINT "FK_3970851ce7917dc2b3ab6481057" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "storage_attachments"`);
  }
}
