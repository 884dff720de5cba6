import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export const CATALOG_SORTS = ['rating', 'installs', 'newest'] as const;
export type CatalogSort = (typeof CATALOG_SORTS)[number];

export interface CatalogFilter {
  category?: string;
  q?: string;
  sort: CatalogSort;
  limit: number;
  offset: number;
}

/** A visible plugin with its live (newest approved) version and its counts. */
export interface CatalogRow {
  id: string;
  name: string;
  description: string;
  category: string;
  price_cents: number;
  currency: string;
  author_id: string;
  /** The live version's row and package key (internal: never on the wire). */
  version_id: string;
  blob_key: string;
  version: string;
  manifest: Record<string, unknown>;
  sha256: string;
  signature: string | null;
  released_at: Date;
  install_count: number;
  rating_count: number;
  avg_rating: number | null;
}

export interface ApprovedVersionRow {
  version: string;
  sha256: string;
  signature: string | null;
  size: number;
  released_at: Date;
}

/** Tie-breakers end every order with the plugin id, so paging is stable. */
const ORDER_BY: Record<CatalogSort, string> = {
  rating: 'avg_rating DESC NULLS LAST, rating_count DESC, p.id',
  installs: 'install_count DESC, p.id',
  newest: 'released_at DESC, p.id',
};

/*
 * Visible = not quarantined and with an approved version; the live version is
 * the newest approved one. The tsvector expression is the one the
 * ix_plugins_search GIN index is built on, so the index serves the search.
 */
const VISIBLE = `
  FROM plugins p
  JOIN LATERAL (
    SELECT v.id AS version_id, v.blob_key, v.version, v.manifest, v.sha256, v.signature, v.created_at AS released_at
      FROM plugin_versions v
     WHERE v.plugin_id = p.id AND v.status = 'approved'
     ORDER BY v.created_at DESC, v.id DESC LIMIT 1
  ) live ON true
  WHERE p.quarantined_at IS NULL
    AND ($1::text IS NULL OR p.category = $1)
    AND ($2::text IS NULL OR to_tsvector('english', p.name || ' ' || p.description) @@ websearch_to_tsquery('english', $2))`;

const COUNTS = `
  (SELECT count(*) FROM plugin_installs i WHERE i.plugin_id = p.id)::int AS install_count,
  (SELECT count(*) FROM plugin_ratings r WHERE r.plugin_id = p.id)::int AS rating_count,
  (SELECT round(avg(r.stars), 2) FROM plugin_ratings r WHERE r.plugin_id = p.id)::float8 AS avg_rating`;

const COLUMNS = `p.id, p.name, p.description, p.category, p.price_cents, p.currency, p.author_id,
  live.version_id, live.blob_key, live.version, live.manifest, live.sha256, live.signature, live.released_at, ${COUNTS}`;

/** The catalog's reads of plugins and their versions (with install and rating counts), and signatures. */
@Injectable()
export class PluginCatalogRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** One page of the visible catalog and how many plugins match in all. */
  async catalog(filter: CatalogFilter): Promise<{ rows: CatalogRow[]; total: number }> {
    const params = [filter.category ?? null, filter.q ?? null];
    const rows = await this.dataSource.query<CatalogRow[]>(
      `SELECT ${COLUMNS} ${VISIBLE} AND p.unlisted_at IS NULL ORDER BY ${ORDER_BY[filter.sort]} LIMIT $3 OFFSET $4`,
      [...params, filter.limit, filter.offset],
    );
    const [count] = await this.dataSource.query<Array<{ total: number }>>(
      `SELECT count(*)::int AS total ${VISIBLE} AND p.unlisted_at IS NULL`,
      params,
    );
    return { rows, total: count?.total ?? 0 };
  }

  /** The visible plugin `id`, or null when it does not exist, is quarantined or has no approved version. */
  async visiblePlugin(id: string): Promise<CatalogRow | null> {
    const [row] = await this.dataSource.query<CatalogRow[]>(`SELECT ${COLUMNS} ${VISIBLE} AND p.id = $3`, [
      null,
      null,
      id,
    ]);
    return row ?? null;
  }

  /** The approved versions of a plugin, newest first. */
  approvedVersions(pluginId: string): Promise<ApprovedVersionRow[]> {
    return this.dataSource.query<ApprovedVersionRow[]>(
      `SELECT version, sha256, signature, size, created_at AS released_at FROM plugin_versions
        WHERE plugin_id = $1 AND status = 'approved' ORDER BY created_at DESC, id DESC`,
      [pluginId],
    );
  }

  /**
   * The approved version `versionId` of an unquarantined plugin `userId` has
   * installed, with its plugin: what a download link may serve once plugin
   * sales agree (a purchase, if any, is paid).
   */
  async downloadable(
    versionId: string,
    userId: string,
  ): Promise<{ blob_key: string; plugin_id: string } | null> {
    const [row] = await this.dataSource.query<Array<{ blob_key: string; plugin_id: string }>>(
      `SELECT v.blob_key, v.plugin_id FROM plugin_versions v
         JOIN plugins p ON p.id = v.plugin_id AND p.quarantined_at IS NULL
         JOIN plugin_installs i ON i.plugin_id = p.id AND i.user_id = $2
        WHERE v.id = $1 AND v.status = 'approved'`,
      [versionId, userId],
    );
    return row ?? null;
  }

  /** Approved versions the registry has not signed yet (the seeds, on a deployment's first start). */
  unsignedApproved(): Promise<Array<{ id: string; sha256: string }>> {
    return this.dataSource.query(
      `SELECT id, sha256 FROM plugin_versions WHERE status = 'approved' AND signature IS NULL`,
    );
  }

  /** Records the signature of a version; a concurrent signer writes the same bytes (Ed25519 is deterministic). */
  async setSignature(versionId: string, signature: string): Promise<void> {
    await this.dataSource.query(`UPDATE plugin_versions SET signature = $2 WHERE id = $1`, [
      versionId,
      signature,
    ]);
  }
}
