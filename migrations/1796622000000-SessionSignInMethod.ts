import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How a session was opened (password, sso, github): a fresh SSO or GitHub
 * sign-in confirms the deletion of an account without a password (issue 37).
 * Sessions opened before stay null: none of them counts as fresh.
 */
export class SessionSignInMethod1796622000000 implements MigrationInterface {
  name = 'SessionSignInMethod1796622000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" ADD "sign_in_method" character varying(16)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "sign_in_method"`);
  }
}
