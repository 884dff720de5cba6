import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { DatabaseService } from '../../database/database.service.js';
import { HASH_DIMENSIONS, VectorRepository } from './vector.repository.js';

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
    private readonly vectors: VectorRepository,
    private readonly database: DatabaseService,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.database.vectorSupport.available) return;
    const dims = this.config.vectorDimensions;
    await this.vectors.buildIndexes(dims);
    this.logger.log(`HNSW indexes ready (blob-hash ${HASH_DIMENSIONS} dims, semantic ${dims} dims)`);
  }
}
