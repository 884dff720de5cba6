import type { MigrationInterface, QueryRunner } from 'typeorm';

export class PluginVersionStatusCheck1795861138255 implements MigrationInterface {
  name = 'PluginVersionStatusCheck1795861138255';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "plugin_versions" ADD CONSTRAINT "ck_plugin_versions_status" CHECK (status IN ('pending_review', 'approved', 'rejected', 'checks_errored'))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "plugin_versions" DROP CONSTRAINT "ck_plugin_versions_status"`);
  }
}
