import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { returningRows } from '../../database/sql.js';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { VectorItem } from './entities/vector-item.entity.js';

/** Dimension of blob-hash vectors: one float per byte of the blob's SHA-256. */
export const HASH_DIMENSIONS = 32;

/**
 * HNSW build parameters (pgvector's defaults) and the search-time candidate
 * list. ef_search 100 found 0.963 of the true top 10 at 100k clustered 384-dim
 * vectors; 400 finds >= 0.99 (`npm run bench:vectors`, docs/performance.md):
 * the candidate list, not the graph, was what missed neighbours, and a wider
 * list costs little next to the exact scan.
 */
export const HNSW = { m: 16, efConstruction: 64, efSearch: 400 } as const;

/** pgvector's ceiling for hnsw.ef_search. */
const MAX_EF_SEARCH = 1000;

/** Candidates per result kept in the list for larger top_k (40 × 10 = the 400 measured above). */
const EF_PER_RESULT = 40;

const INDEX_LOCK_KEY = 7_318_221_004;
const BUILD_MEMORY = '512MB';

/** Index names are derived from the dimension so deployments with other settings keep their own. */
export const embeddingIndexName = (dims: number) => `vector_items_embedding_${dims}_hnsw`;

/** The query column of each search mode, as the HNSW indexes cover it. */
export type Target = { expr: string; dims: number; filter: string };

export const hashTarget: Target = {
  expr: `hash_vector::vector(${HASH_DIMENSIONS})`,
  dims: HASH_DIMENSIONS,
  filter: '',
};
export const embeddingTarget = (dims: number): Target => ({
  expr: `embedding::vector(${dims})`,
  dims,
  filter: `AND dims = ${dims}`,
});

/** The candidate list of a top_k search: the same candidates per result as measured at top 10, within pgvector's cap. */
export function efSearchFor(topK: number): number {
  return Math.min(MAX_EF_SEARCH, Math.max(HNSW.efSearch, topK * EF_PER_RESULT));
}

/** Session settings of one search: the candidate list, and iterative scanning (below). */
export function searchSettings(topK: number): string[] {
  return [`SET LOCAL hnsw.ef_search = ${efSearchFor(topK)}`, 'SET LOCAL hnsw.iterative_scan = relaxed_order'];
}

/**
 * The nearest rows of one user ($1) to $2, at most $3. The HNSW index is
 * scanned iteratively: it keeps reading until `top_k` rows of this user are
 * found, however many other users' rows sit between them. `relaxed_order`
 * results are put back in exact order by the outer query.
 */
export function nearestQuery(target: Target): string {
  return `WITH nearest AS MATERIALIZED (
      SELECT item_id, blob, ${target.expr} <=> $2::vector(${target.dims}) AS distance
      FROM vector_items WHERE user_id = $1 ${target.filter}
      ORDER BY distance LIMIT $3
    )
    SELECT item_id, blob, distance FROM nearest ORDER BY distance + 0, item_id`;
}

/** A found item and its cosine distance to the query. */
export interface NearestItem {
  item_id: string;
  blob: Buffer;
  distance: number;
}

/** An item as written: its blob and both vectors. */
export interface VectorWrite {
  id: string;
  blob: Buffer;
  checksum: string;
  hash: number[];
  embedding: number[] | null;
}

const COLUMNS = 8;

/** The vector_items table: every query is scoped to its owner. */
@Injectable()
export class VectorRepository {
  constructor(@InjectRepository(VectorItem) private readonly items: Repository<VectorItem>) {}

  /** Bytes the user's items with these ids take now (what an upsert of them replaces). */
  async bytesOf(tx: Tx, userId: string, itemIds: string[]): Promise<number> {
    const manager = managerOf(tx);
    const [row] = await manager.query<Array<{ bytes: string | null }>>(
      'SELECT sum(size_bytes) AS bytes FROM vector_items WHERE user_id = $1 AND item_id = ANY($2)',
      [userId, itemIds],
    );
    return Number(row?.bytes ?? 0);
  }

  /** One multi-row statement; a replaced item keeps its created_at. */
  async upsertForOwner(tx: Tx, userId: string, items: VectorWrite[]): Promise<void> {
    const manager = managerOf(tx);
    const params: unknown[] = [];
    const values = items.map((item, index) => {
      params.push(userId, item.id, item.blob, item.checksum, item.blob.length, item.hash, item.embedding);
      params.push(item.embedding?.length ?? null);
      const param = (column: number) => `$${index * COLUMNS + column}`;
      return `(${param(1)}, ${param(2)}, ${param(3)}, ${param(4)}, ${param(5)}, ${param(6)}::real[], ${param(7)}::real[], ${param(8)}::smallint, now())`;
    });
    await manager.query(
      `INSERT INTO vector_items (user_id, item_id, blob, checksum, size_bytes, hash_vector, embedding, dims, updated_at)
       VALUES ${values.join(', ')}
       ON CONFLICT (user_id, item_id) DO UPDATE SET
         blob = EXCLUDED.blob, checksum = EXCLUDED.checksum, size_bytes = EXCLUDED.size_bytes,
         hash_vector = EXCLUDED.hash_vector, embedding = EXCLUDED.embedding, dims = EXCLUDED.dims,
         updated_at = now()`,
      params,
    );
  }

  /** Deletes the user's items with these ids; answers the sizes of those that existed. */
  async deleteForOwner(tx: Tx, userId: string, itemIds: string[]): Promise<number[]> {
    const manager = managerOf(tx);
    const rows = await returningRows<{ size_bytes: number }>(
      manager,
      'DELETE FROM vector_items WHERE user_id = $1 AND item_id = ANY($2) RETURNING size_bytes',
      [userId, itemIds],
    );
    return rows.map((row) => row.size_bytes);
  }

  /** HNSW search of the user's rows (see nearestQuery), in its own transaction for the SET LOCALs. */
  async nearest(userId: string, target: Target, query: number[], topK: number): Promise<NearestItem[]> {
    return this.items.manager.transaction(async (manager) => {
      // Both settings in one round trip (a simple-protocol query of two statements).
      await manager.query(searchSettings(topK).join('; '));
      return manager.query<NearestItem[]>(nearestQuery(target), [userId, `[${query.join(',')}]`, topK]);
    });
  }

  /** Items whose blob is identical to the query blob (same checksum), found exactly through the btree. */
  async identical(userId: string, checksum: string, topK: number): Promise<NearestItem[]> {
    return this.items.query<NearestItem[]>(
      `SELECT item_id, blob, 0::float8 AS distance FROM vector_items
       WHERE user_id = $1 AND checksum = $2 ORDER BY item_id LIMIT $3`,
      [userId, checksum, topK],
    );
  }

  /** Builds both HNSW indexes if missing; instances starting together build each once. */
  async buildIndexes(dims: number): Promise<void> {
    const options = `WITH (m = ${HNSW.m}, ef_construction = ${HNSW.efConstruction})`;
    await this.items.manager.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [INDEX_LOCK_KEY]);
      // A build is much faster while the graph fits in memory (~2 KiB a 384-dim row); for this build only.
      await manager.query(`SET LOCAL maintenance_work_mem = '${BUILD_MEMORY}'`);
      await manager.query(
        `CREATE INDEX IF NOT EXISTS vector_items_hash_hnsw ON vector_items
         USING hnsw ((hash_vector::vector(${HASH_DIMENSIONS})) vector_cosine_ops) ${options}`,
      );
      await manager.query(
        `CREATE INDEX IF NOT EXISTS ${embeddingIndexName(dims)} ON vector_items
         USING hnsw ((embedding::vector(${dims})) vector_cosine_ops) ${options} WHERE dims = ${dims}`,
      );
    });
  }
}
