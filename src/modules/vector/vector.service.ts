import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { checksumMatches, decodeBlob, sha256 } from '../../common/checksum.js';
import { Embeddings } from '../../common/llm/embeddings.js';
import { AppConfig } from '../../config/app-config.js';
import { DatabaseService } from '../../database/database.service.js';
import { returningRows } from '../../database/sql.js';
import { applyUsage, assertTierHasStorage, checkQuota, lockUsage } from '../storage/index.js';
import { StorageEvents } from '../storage/index.js';
import type {
  DeleteVectorsDto,
  DeleteVectorsResultDto,
  SearchVectorsDto,
  UpsertResultDto,
  UpsertVectorsDto,
  VectorItemDto,
  VectorSearchResponseDto,
} from './dto/vector.dto.js';
import { HASH_DIMENSIONS, HNSW } from './vector-index.service.js';
import { VectorException } from './vector.errors.js';

/** A blob-hash vector: the blob's SHA-256, one byte per dimension, centred on 0 (unrelated blobs score ≈ 0). */
export function hashVector(digest: Buffer): number[] {
  return Array.from(digest, (b) => (b - 127.5) / 127.5);
}

interface PreparedItem {
  id: string;
  blob: Buffer;
  checksum: string;
  hash: number[];
  embedding: number[] | null;
}

/** The query column of each search mode, as indexed by VectorIndexService. */
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

interface NearestRow {
  item_id: string;
  blob: Buffer;
  distance: number;
}

/** Session settings of one search: the candidate list, and iterative scanning (below). */
export function searchSettings(topK: number): string[] {
  return [
    `SET LOCAL hnsw.ef_search = ${Math.max(HNSW.efSearch, topK)}`,
    'SET LOCAL hnsw.iterative_scan = relaxed_order',
  ];
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

const COLUMNS = 8;

/**
 * The user's vector store. Every query filters on the owner; writes run under
 * the user's storage-usage lock, so blobs count toward `cloud_storage_gb`
 * exactly as records do, and a batch is stored whole or not at all.
 */
@Injectable()
export class VectorService {
  constructor(
    private readonly ds: DataSource,
    private readonly db: DatabaseService,
    private readonly config: AppConfig,
    private readonly embeddings: Embeddings,
    private readonly events: StorageEvents,
  ) {}

  async upsert(user: AuthUser, dto: UpsertVectorsDto): Promise<UpsertResultDto> {
    this.assertAvailable();
    assertTierHasStorage(user.tier);
    const items = dto.vectors.map((item, i) => this.prepare(item, i));
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(item.id))
        throw new VectorException(
          'validation_failed',
          `vectors[${i}]: id "${item.id}" appears twice in the batch`,
        );
      seen.add(item.id);
    });

    const alert = await this.ds.transaction(async (m) => {
      const lock = await lockUsage(m, user.id);
      const replaced = await m.query<Array<{ bytes: string | null }>>(
        'SELECT sum(size_bytes) AS bytes FROM vector_items WHERE user_id = $1 AND item_id = ANY($2)',
        [user.id, items.map((item) => item.id)],
      );
      const delta = items.reduce((n, item) => n + item.blob.length, 0) - Number(replaced[0]?.bytes ?? 0);
      checkQuota(lock, delta, user.tier);
      await this.write(m, user.id, items);
      return applyUsage(m, user, lock, lock.usedBytes + delta, lock.nextSeq);
    });
    if (alert) this.events.emit('quota', user.id, alert);
    return { upserted: items.length };
  }

  async search(user: AuthUser, dto: SearchVectorsDto): Promise<VectorSearchResponseDto> {
    this.assertAvailable();
    const forms = [dto.query_blob, dto.vector, dto.query_text].filter((f) => f !== undefined).length;
    if (forms !== 1) {
      throw new VectorException('validation_failed', 'Send exactly one of query_blob, vector or query_text');
    }
    let rows: NearestRow[];
    if (dto.query_blob !== undefined) {
      const digest = sha256(this.decode(dto.query_blob, 'query_blob'));
      const identical = await this.identical(user.id, digest.toString('hex'), dto.top_k);
      const near = await this.nearest(user.id, hashTarget, hashVector(digest), dto.top_k);
      const seen = new Set(identical.map((r) => r.item_id));
      rows = [...identical, ...near.filter((r) => !seen.has(r.item_id))].slice(0, dto.top_k);
    } else {
      const query = dto.vector ?? (await this.embeddings.embed(dto.query_text!, user));
      this.checkVector(query, 'vector');
      rows = await this.nearest(user.id, embeddingTarget(this.config.vectorDimensions), query, dto.top_k);
    }
    return {
      results: rows.map((r) => ({ id: r.item_id, score: 1 - r.distance, blob: r.blob.toString('base64') })),
    };
  }

  async delete(user: AuthUser, dto: DeleteVectorsDto): Promise<DeleteVectorsResultDto> {
    this.assertAvailable();
    const deleted = await this.ds.transaction(async (m) => {
      const lock = await lockUsage(m, user.id);
      const rows = await returningRows<{ size_bytes: number }>(
        m,
        'DELETE FROM vector_items WHERE user_id = $1 AND item_id = ANY($2) RETURNING size_bytes',
        [user.id, dto.ids],
      );
      if (rows.length > 0) {
        const freed = rows.reduce((n, r) => n + r.size_bytes, 0);
        await applyUsage(m, user, lock, lock.usedBytes - freed, lock.nextSeq);
      }
      return rows.length;
    });
    return { ok: true, deleted };
  }

  /** HNSW search of the user's rows (see nearestQuery), in its own transaction for the SET LOCALs. */
  private async nearest(
    userId: string,
    target: Target,
    query: number[],
    topK: number,
  ): Promise<NearestRow[]> {
    return this.ds.transaction(async (m) => {
      for (const setting of searchSettings(topK)) await m.query(setting);
      return m.query<NearestRow[]>(nearestQuery(target), [userId, `[${query.join(',')}]`, topK]);
    });
  }

  /** Items whose blob is identical to the query blob (same checksum), found exactly through the btree. */
  private async identical(userId: string, checksum: string, topK: number): Promise<NearestRow[]> {
    return this.ds.query<NearestRow[]>(
      `SELECT item_id, blob, 0::float8 AS distance FROM vector_items
       WHERE user_id = $1 AND checksum = $2 ORDER BY item_id LIMIT $3`,
      [userId, checksum, topK],
    );
  }

  /** One multi-row statement; a replaced item keeps its created_at. */
  private async write(m: EntityManager, userId: string, items: PreparedItem[]): Promise<void> {
    const params: unknown[] = [];
    const values = items.map((item, i) => {
      params.push(
        userId,
        item.id,
        item.blob,
        item.checksum,
        item.blob.length,
        item.hash,
        item.embedding,
        item.embedding?.length ?? null,
      );
      const p = (k: number) => `$${i * COLUMNS + k}`;
      return `(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}::real[], ${p(7)}::real[], ${p(8)}::smallint, now())`;
    });
    await m.query(
      `INSERT INTO vector_items (user_id, item_id, blob, checksum, size_bytes, hash_vector, embedding, dims, updated_at)
       VALUES ${values.join(', ')}
       ON CONFLICT (user_id, item_id) DO UPDATE SET
         blob = EXCLUDED.blob, checksum = EXCLUDED.checksum, size_bytes = EXCLUDED.size_bytes,
         hash_vector = EXCLUDED.hash_vector, embedding = EXCLUDED.embedding, dims = EXCLUDED.dims,
         updated_at = now()`,
      params,
    );
  }

  /** Decodes and checks one item; any problem is a 400 naming it, before anything is written. */
  private prepare(item: VectorItemDto, i: number): PreparedItem {
    const name = `vectors[${i}] (id "${item.id}")`;
    const blob = this.decode(item.blob, `${name}: blob`);
    const digest = sha256(blob);
    if (!checksumMatches(digest, item.checksum)) {
      throw new VectorException(
        'checksum_mismatch',
        `${name}: checksum does not match the blob (SHA-256 of the raw bytes, lowercase hex)`,
      );
    }
    if (item.vector) this.checkVector(item.vector, `${name}: vector`);
    return {
      id: item.id,
      blob,
      checksum: item.checksum,
      hash: hashVector(digest),
      embedding: item.vector ?? null,
    };
  }

  private decode(base64: string, what: string): Buffer {
    const max = this.config.vectorMaxBlobBytes;
    return decodeBlob(base64, max, `${what} exceeds the limit of ${max} bytes (VECTOR_MAX_BLOB_BYTES)`);
  }

  private checkVector(vector: number[], what: string): void {
    const dims = this.config.vectorDimensions;
    if (vector.length !== dims) {
      throw new VectorException(
        'validation_failed',
        `${what} has ${vector.length} dimensions; this server expects ${dims}`,
      );
    }
    if (vector.every((x) => x === 0)) {
      throw new VectorException(
        'validation_failed',
        `${what} is all zeros (cosine similarity is undefined for it)`,
      );
    }
  }

  private assertAvailable(): void {
    const { available, reason } = this.db.vectorSupport;
    if (!available) {
      throw new VectorException(
        'feature_not_configured',
        `The vector store is not available on this server: the database has no pgvector extension (${reason}). ` +
          'Install pgvector on the PostgreSQL server (or use the embedded database) and restart.',
      );
    }
  }
}
