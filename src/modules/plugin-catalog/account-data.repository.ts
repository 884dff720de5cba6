import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** The author a kept plugin's manifest names once its account is erased. */
export const ERASED_AUTHOR = 'Erased account';

/** What an account's export and erasure read and change of the catalog's tables. */
@Injectable()
export class CatalogAccountDataRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  installsOf(userId: string): Promise<Array<Record<string, unknown>>> {
    return this.db.query(
      `SELECT plugin_id, created_at FROM plugin_installs WHERE user_id = $1 ORDER BY created_at`,
      [userId],
    );
  }

  ratingsOf(userId: string): Promise<Array<Record<string, unknown>>> {
    return this.db.query(
      `SELECT plugin_id, stars, comment, created_at, updated_at FROM plugin_ratings WHERE user_id = $1
        ORDER BY created_at`,
      [userId],
    );
  }

  authoredBy(userId: string): Promise<Array<Record<string, unknown>>> {
    return this.db.query(
      `SELECT p.id, p.name, p.description, p.category, p.price_cents, p.currency, p.created_at,
              coalesce(json_agg(json_build_object('version', v.version, 'status', v.status, 'sha256', v.sha256,
                'created_at', v.created_at) ORDER BY v.created_at) FILTER (WHERE v.id IS NOT NULL), '[]') AS versions
         FROM plugins p LEFT JOIN plugin_versions v ON v.plugin_id = p.id
        WHERE p.author_id = $1 GROUP BY p.id ORDER BY p.created_at`,
      [userId],
    );
  }

  /**
   * Removes the account's ratings (the averages are computed on read) and
   * installs; hands the authored plugins others still depend on (installed by
   * someone else, or sold: the ledger names them) to `pseudonym`, unlisted,
   * with the author's name in their manifests replaced.
   */
  async eraseUsage(userId: string, pseudonym: string): Promise<void> {
    await this.db.transaction(async (manager) => {
      await manager.query('DELETE FROM plugin_ratings WHERE user_id = $1', [userId]);
      await manager.query('DELETE FROM plugin_installs WHERE user_id = $1', [userId]);
      await manager.query(
        `UPDATE plugins p SET author_id = $2, unlisted_at = coalesce(p.unlisted_at, now())
          WHERE p.author_id = $1
            AND (p.price_cents > 0 OR EXISTS (SELECT 1 FROM plugin_installs i WHERE i.plugin_id = p.id))`,
        [userId, pseudonym],
      );
      // What the author typed about themselves into the kept plugins' manifests, and the reviewers' notes
      // addressed to them. The package blobs stay as signed (installs verify their checksum), so a
      // manifest.json inside one still says what it said: docs/privacy.md names that as kept.
      await manager.query(
        `UPDATE plugin_versions v SET manifest = jsonb_set(v.manifest, '{author}', to_jsonb($2::text)),
                review_notes = NULL
          WHERE v.plugin_id IN (SELECT p.id FROM plugins p WHERE p.author_id = $1)
            AND (v.manifest->>'author' IS DISTINCT FROM $2 OR v.review_notes IS NOT NULL)`,
        [pseudonym, ERASED_AUTHOR],
      );
    });
  }

  /** Package keys of the plugins still authored by the account (nobody else depends on them). */
  async packageKeysOfAuthored(userId: string): Promise<string[]> {
    const rows = await this.db.query<Array<{ blob_key: string }>>(
      `SELECT v.blob_key FROM plugin_versions v JOIN plugins p ON p.id = v.plugin_id WHERE p.author_id = $1`,
      [userId],
    );
    return rows.map((row) => row.blob_key);
  }

  /** The plugins still authored by the account, with their versions (ON DELETE CASCADE). */
  async deleteAuthored(userId: string): Promise<void> {
    await this.db.query('DELETE FROM plugins WHERE author_id = $1', [userId]);
  }
}
