import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DeploymentSecrets1795839511571 implements MigrationInterface {
  name = 'DeploymentSecrets1795839511571';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "deployment_secrets" ("name" character varying(64) NOT NULL, "value" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_ce59911f8c2a0de4c5a45069f50" PRIMARY KEY ("name"))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "deployment_secrets"`);
  }
}
