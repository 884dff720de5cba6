import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AccountExportLive1796616398309 implements MigrationInterface {
  name = 'AccountExportLive1796616398309';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Two simultaneous requests could both have queued an export before this index: the newer ones of an
    // account fail (the owner requests again), so the index can hold one live export per account.
    await queryRunner.query(
      `UPDATE "account_exports" e SET status = 'failed', finished_at = now(),
              error = 'Queued twice at once; request a new export'
        WHERE status IN ('queued', 'running') AND EXISTS (
          SELECT 1 FROM "account_exports" o WHERE o.user_id = e.user_id AND o.status IN ('queued', 'running')
             AND (o.created_at, o.id) < (e.created_at, e.id))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_account_exports_user_live" ON "account_exports"  ("user_id") WHERE status IN ('queued', 'running')`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."uq_account_exports_user_live"`);
  }
}
