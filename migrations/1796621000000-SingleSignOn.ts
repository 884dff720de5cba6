import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Single sign-on: teams' OIDC connections and the email domains each answers for, sign-ins in
 * flight (state, nonce, PKCE verifier), the one-time codes a finished sign-in hands the client,
 * and accounts' identities at providers. Accounts made by SSO or GitHub have no password.
 */
export class SingleSignOn1796621000000 implements MigrationInterface {
  name = 'SingleSignOn1796621000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "sign_in_exchange_codes" ("code_hash" character(64) NOT NULL, "provider" character varying(16) NOT NULL, "kind" character varying(8) NOT NULL, "user_id" uuid NOT NULL, "team_id" uuid, "link_issuer" character varying(512), "link_subject" character varying(255), "failed_passwords" integer NOT NULL DEFAULT '0', "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_5bcf2927fccf37bd02743c2090a" PRIMARY KEY ("code_hash"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_sign_in_exchange_codes_user" ON "sign_in_exchange_codes"  ("user_id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_sign_in_exchange_codes_expires" ON "sign_in_exchange_codes"  ("expires_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "sign_in_attempts" ("id" uuid NOT NULL, "state_hash" character(64) NOT NULL, "provider" character varying(16) NOT NULL, "team_id" uuid, "nonce" character varying(128), "code_verifier_encrypted" text NOT NULL, "redirect_uri" character varying(2048) NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_b5b5e9a98dbb74ada205a0084d8" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_sign_in_attempts_state" ON "sign_in_attempts"  ("state_hash") `,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_sign_in_attempts_expires" ON "sign_in_attempts"  ("expires_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "external_identities" ("id" uuid NOT NULL, "provider" character varying(16) NOT NULL, "issuer" character varying(512) NOT NULL, "subject" character varying(255) NOT NULL, "user_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_85d174f9b82602686b4b3846fc4" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_external_identities_user" ON "external_identities"  ("user_id") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_external_identities_subject" ON "external_identities"  ("provider", "issuer", "subject") `,
    );
    await queryRunner.query(
      `CREATE TABLE "sso_connections" ("team_id" uuid NOT NULL, "issuer" character varying(512) NOT NULL, "client_id" character varying(255) NOT NULL, "client_secret_encrypted" text NOT NULL, "domains" text array NOT NULL, "require_sso" boolean NOT NULL DEFAULT false, "server_metadata" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_cf92b0fd6612e72980bf6f3e93f" PRIMARY KEY ("team_id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "sso_domains" ("domain" character varying(253) NOT NULL, "team_id" uuid NOT NULL, CONSTRAINT "PK_586adb1f29cd99ed778c30fb1fd" PRIMARY KEY ("domain"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_sso_domains_team" ON "sso_domains"  ("team_id") `);
    await queryRunner.query(`ALTER TABLE "users" ALTER COLUMN "password_hash" DROP NOT NULL`);
    await queryRunner.query(
      `ALTER TABLE "sign_in_exchange_codes" ADD CONSTRAINT "FK_56d505a79767d97f3bd9bb5f87f" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "external_identities" ADD CONSTRAINT "FK_8320cffd2d6ca86003e23981668" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "sso_connections" ADD CONSTRAINT "FK_cf92b0fd6612e72980bf6f3e93f" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "sso_domains" ADD CONSTRAINT "FK_111e47301302a658c1b7950f44d" FOREIGN KEY ("team_id") REFERENCES "sso_connections"("team_id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sso_domains" DROP CONSTRAINT "FK_111e47301302a658c1b7950f44d"`);
    await queryRunner.query(`ALTER TABLE "sso_connections" DROP CONSTRAINT "FK_cf92b0fd6612e72980bf6f3e93f"`);
    await queryRunner.query(
      `ALTER TABLE "external_identities" DROP CONSTRAINT "FK_8320cffd2d6ca86003e23981668"`,
    );
    await queryRunner.query(
      `ALTER TABLE "sign_in_exchange_codes" DROP CONSTRAINT "FK_56d505a79767d97f3bd9bb5f87f"`,
    );
    // Accounts without a password get one that no password matches (argon2 cannot read it).
    await queryRunner.query(`UPDATE "users" SET "password_hash" = '!' WHERE "password_hash" IS NULL`);
    await queryRunner.query(`ALTER TABLE "users" ALTER COLUMN "password_hash" SET NOT NULL`);
    await queryRunner.query(`DROP INDEX "public"."ix_sso_domains_team"`);
    await queryRunner.query(`DROP TABLE "sso_domains"`);
    await queryRunner.query(`DROP TABLE "sso_connections"`);
    await queryRunner.query(`DROP INDEX "public"."uq_external_identities_subject"`);
    await queryRunner.query(`DROP INDEX "public"."ix_external_identities_user"`);
    await queryRunner.query(`DROP TABLE "external_identities"`);
    await queryRunner.query(`DROP INDEX "public"."ix_sign_in_attempts_expires"`);
    await queryRunner.query(`DROP INDEX "public"."uq_sign_in_attempts_state"`);
    await queryRunner.query(`DROP TABLE "sign_in_attempts"`);
    await queryRunner.query(`DROP INDEX "public"."ix_sign_in_exchange_codes_expires"`);
    await queryRunner.query(`DROP INDEX "public"."ix_sign_in_exchange_codes_user"`);
    await queryRunner.query(`DROP TABLE "sign_in_exchange_codes"`);
  }
}
