import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Vectors1795303642987 implements MigrationInterface {
  name = 'Vectors1795303642987';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "vector_items" ("user_id" uuid NOT NULL, "item_id" character varying(200) NOT NULL, "blob" bytea NOT NULL, "checksum" character(64) NOT NULL, "size_bytes" integer NOT NULL, "hash_vector" real array NOT NULL, "embedding" real array, "dims" smallint, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_950600bf619cb96dd19647d3ac2" PRIMARY KEY ("user_id", "item_id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_vector_items_user_checksum" ON "vector_items"  ("user_id", "checksum") `,
    );
    await queryRunner.query(
      `ALTER TABLE "vector_items" ADD CONSTRAINT "FK_922eb1373bac35a6fb22133617a" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "vector_items" DROP CONSTRAINT "FK_922eb1373bac35a6fb22133617a"`);
    await queryRunner.query(`DROP INDEX "public"."ix_vector_items_user_checksum"`);
    await queryRunner.query(`DROP TABLE "vector_items"`);
  }
}
