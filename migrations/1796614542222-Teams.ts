import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Teams, their members and invitations; and the read-only view
 * `team_subscription_tiers` the teams module publishes for the authentication
 * query: for each membership, the Team subscription of the team's billing
 * account (as `subscription_tiers` shows it), so a member holds the Team tier
 * while a member and while that subscription is live, read fresh on every
 * request in the same one query.
 */
export class Teams1796614542222 implements MigrationInterface {
  name = 'Teams1796614542222';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "teams" ("id" uuid NOT NULL, "name" character varying(100) NOT NULL, "billing_user_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_7e5523774a38b08a6236d322403" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_teams_billing_user_id" ON "teams"  ("billing_user_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "team_invites" ("id" uuid NOT NULL, "team_id" uuid NOT NULL, "email" character varying(320) NOT NULL, "role" character varying(16) NOT NULL, "token_hash" character(64) NOT NULL, "invited_by" uuid, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "accepted_at" TIMESTAMP WITH TIME ZONE, "accepted_by" uuid, "revoked_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_2df756220f694d8f6cf5d0988ec" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_team_invites_token_hash" ON "team_invites"  ("token_hash") `,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_team_invites_team_id" ON "team_invites"  ("team_id", "created_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "team_members" ("team_id" uuid NOT NULL, "user_id" uuid NOT NULL, "role" character varying(16) NOT NULL, "joined_via" character varying(16) NOT NULL, "joined_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_1d3c06a8217a8785e2af0ec4ab8" PRIMARY KEY ("team_id", "user_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_team_members_user_id" ON "team_members"  ("user_id") `);
    await queryRunner.query(
      `ALTER TABLE "teams" ADD CONSTRAINT "FK_53dab6c08709c9496081d6c2027" FOREIGN KEY ("billing_user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "team_invites" ADD CONSTRAINT "FK_5b42757d54d1d64aa0ac9492e2a" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "team_invites" ADD CONSTRAINT "FK_da4c67cd6bf10efe2a0b5f5dc95" FOREIGN KEY ("invited_by") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "team_invites" ADD CONSTRAINT "FK_bc78e484671a45b34db73e836be" FOREIGN KEY ("accepted_by") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "team_members" ADD CONSTRAINT "FK_fdad7d5768277e60c40e01cdcea" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "team_members" ADD CONSTRAINT "FK_c2bf4967c8c2a6b845dadfbf3d4" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `CREATE VIEW "team_subscription_tiers" AS
       SELECT m.user_id, m.team_id, st.tier, st.status, st.current_period_end
         FROM team_members m
         JOIN teams t ON t.id = m.team_id
         JOIN subscription_tiers st ON st.user_id = t.billing_user_id
        WHERE st.tier = 'team'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP VIEW "team_subscription_tiers"`);
    await queryRunner.query(`ALTER TABLE "team_members" DROP CONSTRAINT "FK_c2bf4967c8c2a6b845dadfbf3d4"`);
    await queryRunner.query(`ALTER TABLE "team_members" DROP CONSTRAINT "FK_fdad7d5768277e60c40e01cdcea"`);
    await queryRunner.query(`ALTER TABLE "team_invites" DROP CONSTRAINT "FK_bc78e484671a45b34db73e836be"`);
    await queryRunner.query(`ALTER TABLE "team_invites" DROP CONSTRAINT "FK_da4c67cd6bf10efe2a0b5f5dc95"`);
    await queryRunner.query(`ALTER TABLE "team_invites" DROP CONSTRAINT "FK_5b42757d54d1d64aa0ac9492e2a"`);
    await queryRunner.query(`ALTER TABLE "teams" DROP CONSTRAINT "FK_53dab6c08709c9496081d6c2027"`);
    await queryRunner.query(`DROP INDEX "public"."ix_team_members_user_id"`);
    await queryRunner.query(`DROP TABLE "team_members"`);
    await queryRunner.query(`DROP INDEX "public"."ix_team_invites_team_id"`);
    await queryRunner.query(`DROP INDEX "public"."uq_team_invites_token_hash"`);
    await queryRunner.query(`DROP TABLE "team_invites"`);
    await queryRunner.query(`DROP INDEX "public"."uq_teams_billing_user_id"`);
    await queryRunner.query(`DROP TABLE "teams"`);
  }
}
