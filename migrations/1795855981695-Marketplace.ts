import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The publisher of the seed plugins: a disabled account whose password hash matches no password. */
const SYSTEM_PUBLISHER_ID = '00000000-0000-4000-8000-00000000a001';

/**
 * The seed plugins, approved. Their packages are the exact bytes the app puts
 * in the blob store at start (src/modules/marketplace/seed-packages.ts builds
 * them deterministically); the signature is added at start too, since the
 * signing key exists only once the app runs.
 */
const SEEDS = [
  {
    versionId: '00000000-0000-4000-8000-00000000b001',
    manifest: {
      id: 'github-sync',
      name: 'GitHub Sync',
      description: 'Sync GitHub issues and pull requests into your tasks and projects.',
      version: '1.0.0',
      author: 'Marketplace',
      permissions: ['read:tasks', 'write:tasks', 'read:projects'],
      category: 'Productivity',
      price_cents: 0,
    },
    sha256: 'dc1b398184a5f2fabd02a648ef01d276d27579ba4b8d98579f5cad80d5e53947',
    size: 855,
  },
  {
    versionId: '00000000-0000-4000-8000-00000000b002',
    manifest: {
      id: 'slack-notifier',
      name: 'Slack Notifier',
      description: 'Send reminders, checkpoints and daily summaries to a Slack channel.',
      version: '1.0.0',
      author: 'Marketplace',
      permissions: ['read:tasks', 'read:checkpoints', 'read:calendar'],
      category: 'Communication',
      price_cents: 499,
    },
    sha256: '1c7f56f6129c936383b4bda45da95639c3d6ce92beb2e4641891bebf098e1429',
    size: 878,
  },
  {
    versionId: '00000000-0000-4000-8000-00000000b003',
    manifest: {
      id: 'time-tracker',
      name: 'Time Tracker',
      description: 'Track the time spent on tasks and projects, with weekly reports.',
      version: '1.0.0',
      author: 'Marketplace',
      permissions: ['read:tasks', 'write:tasks', 'read:projects'],
      category: 'Productivity',
      price_cents: 999,
    },
    sha256: 'e5148d0bf849c5ad82734e41dc2835ba511eaf25b51126680fb662fe91869aa6',
    size: 855,
  },
];

export class Marketplace1795855981695 implements MigrationInterface {
  name = 'Marketplace1795855981695';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "plugin_ratings" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "plugin_id" character varying(64) NOT NULL, "stars" smallint NOT NULL, "comment" text, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_520345e56376e9e3c04ae1a6cc4" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_plugin_ratings_plugin" ON "plugin_ratings"  ("plugin_id") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_plugin_ratings_user_plugin" ON "plugin_ratings"  ("user_id", "plugin_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "plugin_versions" ("id" uuid NOT NULL, "plugin_id" character varying(64) NOT NULL, "version" character varying(64) NOT NULL, "manifest" jsonb NOT NULL, "status" character varying(16) NOT NULL, "sha256" character(64) NOT NULL, "signature" text, "blob_key" text NOT NULL, "size" integer NOT NULL, "checks" jsonb NOT NULL DEFAULT '[]', "review_notes" text, "reviewed_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_d45355357c416a54832493a865a" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_plugin_versions_plugin_status" ON "plugin_versions"  ("plugin_id", "status", "created_at") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_plugin_versions_plugin_version" ON "plugin_versions"  ("plugin_id", "version") `,
    );
    await queryRunner.query(
      `CREATE TABLE "plugins" ("id" character varying(64) NOT NULL, "author_id" uuid NOT NULL, "name" character varying(100) NOT NULL, "description" text NOT NULL, "category" character varying(32) NOT NULL, "price_cents" integer NOT NULL DEFAULT '0', "currency" character varying(3) NOT NULL DEFAULT 'EUR', "quarantined_at" TIMESTAMP WITH TIME ZONE, "quarantine_reason" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_bb3d17826b76295957a253ba73e" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_plugins_author_id" ON "plugins"  ("author_id") `);
    await queryRunner.query(`CREATE INDEX "ix_plugins_category" ON "plugins"  ("category") `);
    await queryRunner.query(
      `CREATE TABLE "plugin_installs" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "plugin_id" character varying(64) NOT NULL, CONSTRAINT "PK_51f7cb46a820463446a79132770" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_plugin_installs_plugin" ON "plugin_installs"  ("plugin_id") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_plugin_installs_user_plugin" ON "plugin_installs"  ("user_id", "plugin_id") `,
    );
    await queryRunner.query(
      `ALTER TABLE "plugin_ratings" ADD CONSTRAINT "FK_302df6b35ab69c57617371a0ba1" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "plugin_ratings" ADD CONSTRAINT "FK_4d67d56ab54fd68218533f0b276" FOREIGN KEY ("plugin_id") REFERENCES "plugins"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "plugin_versions" ADD CONSTRAINT "FK_8a8ecb4d4556f8995fe887e3cb5" FOREIGN KEY ("plugin_id") REFERENCES "plugins"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "plugins" ADD CONSTRAINT "FK_48d6403dfcd0a99e82121bf83df" FOREIGN KEY ("author_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "plugin_installs" ADD CONSTRAINT "FK_57bd3a86b1fa30938e8c0d0b892" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "plugin_installs" ADD CONSTRAINT "FK_a82712c79dac57f8c62517971ea" FOREIGN KEY ("plugin_id") REFERENCES "plugins"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    // Full-text search over name and description; the catalog query repeats this exact expression.
    await queryRunner.query(
      `CREATE INDEX "ix_plugins_search" ON "plugins" USING gin (to_tsvector('english', "name" || ' ' || "description"))`,
    );
    await this.seed(queryRunner);
  }

  private async seed(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `INSERT INTO "users" ("id", "email", "password_hash", "role", "disabled_at")
       VALUES ($1, 'marketplace-publisher@system.invalid', '!', 'user', now())`,
      [SYSTEM_PUBLISHER_ID],
    );
    for (const seed of SEEDS) {
      const { id, name, description, category, price_cents, version } = seed.manifest;
      await queryRunner.query(
        `INSERT INTO "plugins" ("id", "author_id", "name", "description", "category", "price_cents", "currency")
         VALUES ($1, $2, $3, $4, $5, $6, 'EUR')`,
        [id, SYSTEM_PUBLISHER_ID, name, description, category, price_cents],
      );
      await queryRunner.query(
        `INSERT INTO "plugin_versions" ("id", "plugin_id", "version", "manifest", "status", "sha256", "blob_key", "size", "reviewed_at")
         VALUES ($1, $2, $3, $4, 'approved', $5, $6, $7, now())`,
        [
          seed.versionId,
          id,
          version,
          JSON.stringify(seed.manifest),
          seed.sha256,
          `plugins/${id}/${version}.zip`,
          seed.size,
        ],
      );
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ix_plugins_search"`);
    await queryRunner.query(`ALTER TABLE "plugin_installs" DROP CONSTRAINT "FK_a82712c79dac57f8c62517971ea"`);
    await queryRunner.query(`ALTER TABLE "plugin_installs" DROP CONSTRAINT "FK_57bd3a86b1fa30938e8c0d0b892"`);
    await queryRunner.query(`ALTER TABLE "plugins" DROP CONSTRAINT "FK_48d6403dfcd0a99e82121bf83df"`);
    await queryRunner.query(`ALTER TABLE "plugin_versions" DROP CONSTRAINT "FK_8a8ecb4d4556f8995fe887e3cb5"`);
    await queryRunner.query(`ALTER TABLE "plugin_ratings" DROP CONSTRAINT "FK_4d67d56ab54fd68218533f0b276"`);
    await queryRunner.query(`ALTER TABLE "plugin_ratings" DROP CONSTRAINT "FK_302df6b35ab69c57617371a0ba1"`);
    await queryRunner.query(`DROP INDEX "public"."uq_plugin_installs_user_plugin"`);
    await queryRunner.query(`DROP INDEX "public"."ix_plugin_installs_plugin"`);
    await queryRunner.query(`DROP TABLE "plugin_installs"`);
    await queryRunner.query(`DROP INDEX "public"."ix_plugins_category"`);
    await queryRunner.query(`DROP INDEX "public"."ix_plugins_author_id"`);
    await queryRunner.query(`DROP TABLE "plugins"`);
    await queryRunner.query(`DROP INDEX "public"."uq_plugin_versions_plugin_version"`);
    await queryRunner.query(`DROP INDEX "public"."ix_plugin_versions_plugin_status"`);
    await queryRunner.query(`DROP TABLE "plugin_versions"`);
    await queryRunner.query(`DROP INDEX "public"."uq_plugin_ratings_user_plugin"`);
    await queryRunner.query(`DROP INDEX "public"."ix_plugin_ratings_plugin"`);
    await queryRunner.query(`DROP TABLE "plugin_ratings"`);
    await queryRunner.query(`DELETE FROM "users" WHERE "id" = $1`, [SYSTEM_PUBLISHER_ID]);
  }
}
