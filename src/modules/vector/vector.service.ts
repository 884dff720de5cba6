import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { checksumMatches, decodeBlob, sha256 } from '../../common/checksum.js';
import { Embeddings } from '../../common/llm/embeddings.js';
import { AppConfig } from '../../config/app-config.js';
import { DatabaseService } from '../../database/database.service.js';
import { assertQuotaIncluded } from '../auth/index.js';
import { StorageQuotaService } from '../storage/index.js';
import type {
  DeleteVectorsDto,
  DeleteVectorsResultDto,
  SearchVectorsDto,
  UpsertResultDto,
  UpsertVectorsDto,
  VectorItemDto,
  VectorSearchResponseDto,
} from './dto/vector.dto.js';
import {
  embeddingTarget,
  hashTarget,
  type NearestItem,
  VectorRepository,
  type VectorWrite,
} from './vector.repository.js';
import { VectorException } from './vector.errors.js';

/** A blob-hash vector: the blob's SHA-256, one byte per dimension, centred on 0 (unrelated blobs score ≈ 0). */
export function hashVector(digest: Buffer): number[] {
  return Array.from(digest, (b) => (b - 127.5) / 127.5);
}

// The search SQL builders live in the repository; re-exported for the suites and benchmarks that run them directly.
export { embeddingTarget, nearestQuery, searchSettings } from './vector.repository.js';

/**
 * The user's vector store. Every query filters on the owner; writes run under
 * the user's storage-usage lock, so blobs count toward `cloud_storage_gb`
 * exactly as records do, and a batch is stored whole or not at all.
 */
@Injectable()
export class VectorService {
  constructor(
    private readonly vectors: VectorRepository,
    private readonly quota: StorageQuotaService,
    private readonly database: DatabaseService,
    private readonly config: AppConfig,
    private readonly embeddings: Embeddings,
  ) {}

  async upsert(user: AuthUser, dto: UpsertVectorsDto): Promise<UpsertResultDto> {
    this.assertAvailable();
    assertQuotaIncluded(user.tier, 'cloud_storage_gb');
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

    await this.quota.withUsageLock(user, async (tx) => {
      const replaced = await this.vectors.bytesOf(
        tx,
        user.id,
        items.map((item) => item.id),
      );
      const added = items.reduce((sum, item) => sum + item.blob.length, 0);
      await this.vectors.upsertForOwner(tx, user.id, items);
      return { value: undefined, deltaBytes: added - replaced };
    });
    return { upserted: items.length };
  }

  async search(user: AuthUser, dto: SearchVectorsDto): Promise<VectorSearchResponseDto> {
    this.assertAvailable();
    const forms = [dto.query_blob, dto.vector, dto.query_text].filter((f) => f !== undefined).length;
    if (forms !== 1) {
      throw new VectorException('validation_failed', 'Send exactly one of query_blob, vector or query_text');
    }
    let rows: NearestItem[];
    if (dto.query_blob !== undefined) {
      const digest = sha256(this.decode(dto.query_blob, 'query_blob'));
      const identical = await this.vectors.identical(user.id, digest.toString('hex'), dto.top_k);
      const near = await this.vectors.nearest(user.id, hashTarget, hashVector(digest), dto.top_k);
      const seen = new Set(identical.map((r) => r.item_id));
      rows = [...identical, ...near.filter((r) => !seen.has(r.item_id))].slice(0, dto.top_k);
    } else {
      const query = dto.vector ?? (await this.embeddings.embed(dto.query_text!, user));
      this.checkVector(query, 'vector');
      rows = await this.vectors.nearest(
        user.id,
        embeddingTarget(this.config.vectorDimensions),
        query,
        dto.top_k,
      );
    }
    return {
      results: rows.map((r) => ({ id: r.item_id, score: 1 - r.distance, blob: r.blob.toString('base64') })),
    };
  }

  async delete(user: AuthUser, dto: DeleteVectorsDto): Promise<DeleteVectorsResultDto> {
    this.assertAvailable();
    const deleted = await this.quota.withUsageLock(user, async (tx) => {
      const sizes = await this.vectors.deleteForOwner(tx, user.id, dto.ids);
      return { value: sizes.length, deltaBytes: -sizes.reduce((sum, size) => sum + size, 0) };
    });
    return { ok: true, deleted };
  }

  /** Decodes and checks one item; any problem is a 400 naming it, before anything is written. */
  private prepare(item: VectorItemDto, i: number): VectorWrite {
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
    const { available, reason } = this.database.vectorSupport;
    if (!available) {
      throw new VectorException(
        'feature_not_configured',
        `The vector store is not available on this server: the database has no pgvector extension (${reason}). ` +
          'Install pgvector on the PostgreSQL server (or use the embedded database) and restart.',
      );
    }
  }
}
