import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config.js';
import { DatabaseService } from '../../database/database.service.js';

/** Dimension of blob-hash vectors: one float per byte of the blob's SHA-256. */
export const HASH_DIMENSIONS = 32;

/**
 * HNSW build parameters (pgvector's defaults, measured sufficient by
 * `npm run bench:vectors`) and the search-time candidate list.
 */
export const HNSW = { m: 16, efConstruction: 64, efSearch: 100 } as const;

const INDEX_LOCK_KEY = 7_318_221_004;
const BUILD_MEMORY = '512MB';

/** Index names are derived from the dimension so deployments with other settings keep their own. */
export const embeddingIndexName = (dims: number) => `vector_items_embedding_${dims}_hnsw`;

/**
 * Builds the HNSW indexes at start where pgvector is available. The vectors
 * are plain `real[]` columns (so the migration runs on any PostgreSQL), and
 * an index is built over the cast expression for one dimension:
 * `embedding::vector(<VECTOR_DIMENSIONS>)`, partial on `dims = <VECTOR_DIMENSIONS>`.
 * A deployment that changes VECTOR_DIMENSIONS gets a new index at its next
 * start; items of the old dimension stay stored but are not found by vector.
 */
@Injectable()
export class VectorIndexService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Vectors');

  constructor(
    private readonly ds: DataSource,
    private readonly db: DatabaseService,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.db.vectorSupport.available) return;
    const dims = this.config.vectorDimensions;
    const opts = `WITH (m = ${HNSW.m}, ef_construction = ${HNSW.efConstruction})`;
    // Instances starting together build each index once.
    await this.ds.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [INDEX_LOCK_KEY]);
      // A build is much faster while the graph fits in memory (~2 KiB a 384-dim row); for this build only.
      await m.query(`SET LOCAL maintenance_work_mem = '${BUILD_MEMORY}'`);
      await m.query(
        `CREATE INDEX IF NOT EXISTS vector_items_hash_hnsw ON vector_items
         USING hnsw ((hash_vector::vector(${HASH_DIMENSIONS})) vector_cosine_ops) ${opts}`,
      );
      await m.query(
        `CREATE INDEX IF NOT EXISTS ${embeddingIndexName(dims)} ON vector_items
         USING hnsw ((embedding::vector(${dims})) vector_cosine_ops) ${opts} WHERE dims = ${dims}`,
      );
    });
    this.logger.log(`HNSW indexes ready (blob-hash ${HASH_DIMENSIONS} dims, semantic ${dims} dims)`);
  }
}
