import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { BlobStore, type StoredBlob } from '../../common/blob-store/blob-store.js';
import { checksumMatches, decodeBlob, sha256 } from '../../common/checksum.js';
import { classifyOutage } from '../../common/outage/outage.js';
import { assertQuotaIncluded } from '../auth/index.js';
import { AppConfig } from '../../config/app-config.js';
import type { Tx } from '../../database/unit-of-work.js';
import {
  type ConflictPageDto,
  type CreateRecordDto,
  mapConflict,
  mapRecordMeta,
  type RecordCreatedDto,
  type RecordListDto,
  type RecordUpdatedDto,
  type UpdateRecordDto,
} from './dto/storage.dto.js';
import type { StorageChange } from './entities/storage-change.entity.js';
import { StorageRecord } from './entities/storage-record.entity.js';
import { AttachmentsService } from './attachments.service.js';
import { parseIfMatch } from './if-match.js';
import { RecordsRepository } from './records.repository.js';
import { assertRoomFor, type UsageLock } from './storage-quota.js';
import { StorageQuotaService, type UsageChange } from './storage-quota.service.js';
import { type StorageChangedEvent, StorageEvents } from './storage.events.js';
import { StorageException } from './storage.errors.js';
import { SyncRepository } from './sync.repository.js';
import { type ItemOutcome, WriteBatcher } from './write-batcher.js';

/** How long tombstones and conflict copies are kept. */
export const RETENTION_MS = 30 * 24 * 3600 * 1000;

/** Creates in one transaction at most (their metadata only: the bytes are already in the blob store). */
const MAX_CREATE_BATCH = 100;

/** A create waiting for its batch: the record, its blob already stored. */
interface PendingCreate {
  user: AuthUser;
  record: StorageRecord;
}

interface NewContent {
  bytes: Buffer;
  checksum: string;
  blobKey: string;
}

/**
 * End-to-end encrypted records. Every write: the blob under a new key first,
 * then one transaction (under the user's usage lock) for the row, the change
 * and the quota; the new blob is removed if the transaction fails, and the
 * replaced blob only after it commits. Readers never see a torn record.
 */
@Injectable()
export class StorageService {
  /** Creates of one user wait here while that user's previous batch commits, and go as the next. */
  private readonly creates = new WriteBatcher<PendingCreate, StorageRecord>(
    (_key, items) => this.createBatch(items),
    MAX_CREATE_BATCH,
  );

  constructor(
    private readonly records: RecordsRepository,
    private readonly sync: SyncRepository,
    private readonly quota: StorageQuotaService,
    private readonly blobs: BlobStore,
    private readonly config: AppConfig,
    private readonly events: StorageEvents,
    private readonly attachments: AttachmentsService,
  ) {}

  async create(user: AuthUser, dto: CreateRecordDto): Promise<RecordCreatedDto> {
    assertQuotaIncluded(user.tier, 'cloud_storage_gb');
    const bytes = this.decode(dto.blob, dto.checksum);
    const record = Object.assign(new StorageRecord(), {
      userId: user.id,
      tableName: dto.table,
      checksum: dto.checksum,
      sizeBytes: String(bytes.length),
      version: 1,
    });
    record.blobKey = this.newKey(user.id, dto.table, record.id);
    const created = await this.withNewBlob({ bytes, checksum: dto.checksum, blobKey: record.blobKey }, () =>
      // Same user and tier: the quota of the batch is checked against one tier.
      this.creates.submit(`${user.id}:${user.tier}`, { user, record }),
    );
    this.notify(created, 'upsert');
    return { id: created.id, created_at: created.createdAt.getTime(), version: 1 };
  }

  async list(user: AuthUser, query: { table?: string; page: number; limit: number }): Promise<RecordListDto> {
    const [records, total] = await this.records.listLiveForOwner(user.id, query);
    return { records: records.map(mapRecordMeta), total, page: query.page, limit: query.limit };
  }

  /** The record's bytes with its checksum and version. Another user's id is 404, as a missing one. */
  async download(
    user: AuthUser,
    id: string,
  ): Promise<{ blob: StoredBlob; checksum: string; version: number }> {
    const record = await this.liveOrThrow(user.id, id);
    const blob = record.blobKey ? await this.blobs.get(record.blobKey) : null;
    if (!blob) throw new Error(`Blob ${record.blobKey} of record ${id} is missing from the blob store`);
    return { blob, checksum: record.checksum, version: record.version };
  }

  /**
   * Replaces the record's bytes. With a base version (body or If-Match) a
   * stale base is refused with 409; without one the write wins and the
   * overwritten version is kept, and counted, as a conflict copy.
   */
  async update(
    user: AuthUser,
    id: string,
    dto: UpdateRecordDto,
    ifMatch?: string,
  ): Promise<RecordUpdatedDto> {
    const base = dto.base_version ?? parseIfMatch(ifMatch);
    const bytes = this.decode(dto.blob, dto.checksum);
    // Cheap early answers before uploading anything; the transaction decides for real.
    const current = await this.liveOrThrow(user.id, id);
    assertBase(current, base);
    if (bytes.length > Number(current.sizeBytes) || base === undefined)
      assertQuotaIncluded(user.tier, 'cloud_storage_gb');

    const content = { bytes, checksum: dto.checksum, blobKey: this.newKey(user.id, current.tableName, id) };
    const { updated, replacedKey } = await this.withNewBlob(content, () =>
      this.quota.withUsageLock(user, (tx, lock) =>
        this.replaceUnderLock(tx, lock, { userId: user.id, id, base, content }),
      ),
    );
    if (replacedKey) await this.blobs.discard(replacedKey);
    this.notify(updated, 'upsert');
    return { ok: true, version: updated.version, updated_at: updated.updatedAt.getTime() };
  }

  /** Tombstones the record: it leaves the listings, frees its quota, and is purged with its blob after 30 days. */
  /** Its attachments go with it (rows and quota in the same transaction, their bytes after it). */
  async remove(user: AuthUser, id: string): Promise<void> {
    const { record: removed, attachments } = await this.quota.withUsageLock(user, async (tx, lock) => {
      const record = await this.liveOrThrow(user.id, id, tx);
      const detached = await this.attachments.detachAll(tx, user.id, id);
      const freed = Number(record.sizeBytes) + detached.freed;
      record.version += 1;
      await this.records.tombstone(tx, id, record.version);
      await this.appendChange(tx, lock, { ...record, sizeBytes: '0' }, 'delete');
      return { value: { record, attachments: detached.gone }, deltaBytes: -freed, seqsUsed: 1 };
    });
    this.notify(removed, 'delete');
    await this.attachments.removeBytes(attachments);
  }

  async conflicts(user: AuthUser, page: { page: number; limit: number }): Promise<ConflictPageDto> {
    const [conflicts, total] = await this.records.listConflictsForOwner(user.id, page);
    return { conflicts: conflicts.map(mapConflict), total, page: page.page, limit: page.limit };
  }

  async conflictBlob(user: AuthUser, id: string): Promise<{ blob: StoredBlob; checksum: string }> {
    const conflict = await this.records.getConflictForOwner(user.id, id);
    if (!conflict) throw new StorageException('not_found', 'Conflict not found');
    const blob = await this.blobs.get(conflict.blobKey);
    if (!blob) throw new Error(`Blob ${conflict.blobKey} of conflict ${id} is missing from the blob store`);
    return { blob, checksum: conflict.checksum };
  }

  /**
   * Removes tombstones and conflict copies older than 30 days (as of `now`),
   * rows first, then their blobs. Returns what it removed.
   */
  async purge(now = new Date()): Promise<{ records: number; conflicts: number }> {
    const cutoff = new Date(now.getTime() - RETENTION_MS);
    const recordKeys = await this.records.deleteTombstonesBefore(cutoff);
    const conflictKeys: string[] = [];
    for (const userId of await this.records.ownersOfConflictsBefore(cutoff)) {
      const expired = await this.quota.withUsageLock({ id: userId }, async (tx) => {
        const gone = await this.records.deleteConflictsBefore(tx, userId, cutoff);
        const freed = gone.reduce((sum, conflict) => sum + Number(conflict.sizeBytes), 0);
        return { value: gone, deltaBytes: -freed };
      });
      conflictKeys.push(...expired.map((conflict) => conflict.blobKey));
    }
    for (const key of [...recordKeys, ...conflictKeys]) await this.blobs.discard(key);
    return { records: recordKeys.length, conflicts: conflictKeys.length };
  }

  private async replaceUnderLock(
    tx: Tx,
    lock: UsageLock,
    write: { userId: string; id: string; base: number | undefined; content: NewContent },
  ): Promise<UsageChange<{ updated: StorageRecord; replacedKey: string | null }>> {
    const old = await this.liveOrThrow(write.userId, write.id, tx);
    assertBase(old, write.base);
    const oldSize = Number(old.sizeBytes);
    const size = write.content.bytes.length;
    if (write.base === undefined) await this.records.keepConflictCopy(tx, old);
    const updated = Object.assign(new StorageRecord(), old, {
      blobKey: write.content.blobKey,
      checksum: write.content.checksum,
      sizeBytes: String(size),
      version: old.version + 1,
    });
    updated.updatedAt = await this.records.replaceContent(tx, write.id, {
      blobKey: write.content.blobKey,
      checksum: write.content.checksum,
      sizeBytes: size,
      version: updated.version,
    });
    await this.appendChange(tx, lock, updated, 'upsert');
    return {
      value: { updated, replacedKey: write.base === undefined ? null : old.blobKey },
      // Without a base the overwritten version stays stored as a conflict copy, so it still counts.
      deltaBytes: write.base === undefined ? size : size - oldSize,
      seqsUsed: 1,
    };
  }

  /**
   * One transaction for a batch of one user's creates (WriteBatcher): the usage
   * lock once, each record's quota checked in arrival order as if it ran alone
   * (a record that does not fit is refused with 402 and the others go on), the
   * rows and their changes in one statement each, consecutive seqs, one commit.
   */
  private async createBatch(items: PendingCreate[]): Promise<Array<ItemOutcome<StorageRecord>>> {
    const { user } = items[0];
    return this.quota.withUsageLock(user, async (tx, lock) => {
      const outcomes: Array<ItemOutcome<StorageRecord>> = [];
      const accepted: StorageRecord[] = [];
      let added = 0;
      for (const { record } of items) {
        const size = Number(record.sizeBytes);
        try {
          assertRoomFor(lock.usedBytes + added, size, user.tier);
        } catch (error) {
          outcomes.push({ ok: false, error });
          continue;
        }
        added += size;
        accepted.push(record);
        outcomes.push({ ok: true, value: record });
      }
      if (accepted.length) {
        await this.records.insertMany(tx, accepted);
        await this.sync.appendChanges(
          tx,
          accepted.map((record, i) => changeOf(record, lock.nextSeq + i, 'upsert')),
        );
      }
      return { value: outcomes, deltaBytes: added, seqsUsed: accepted.length };
    });
  }

  /**
   * Stores the new blob, runs `write`, and removes the blob again if the
   * write fails. Not when the database went away mid-write: its commit may
   * have landed without the answer reaching us, and removing the blob then
   * would leave a row without its bytes. The blob sweep removes it later if
   * no row references it.
   */
  private async withNewBlob<T>(content: NewContent, write: () => Promise<T>): Promise<T> {
    await this.blobs.put(content.blobKey, content.bytes, { checksum: content.checksum });
    try {
      return await write();
    } catch (err) {
      if (classifyOutage(err) !== 'database') await this.blobs.discard(content.blobKey);
      throw err;
    }
  }

  private async appendChange(
    tx: Tx,
    lock: UsageLock,
    record: StorageRecord,
    op: StorageChangedEvent['op'],
  ): Promise<void> {
    await this.sync.appendChange(tx, changeOf(record, lock.nextSeq, op));
  }

  private async liveOrThrow(userId: string, id: string, tx?: Tx): Promise<StorageRecord> {
    const record = await this.records.getLiveForOwner(userId, id, { tx, lock: !!tx });
    if (!record) throw new StorageException('not_found', 'Record not found');
    return record;
  }

  private decode(blob: string, checksum: string): Buffer {
    const max = this.config.storageMaxRecordBytes;
    const bytes = decodeBlob(blob, max, `Record blob exceeds the limit of ${max} bytes`);
    if (!checksumMatches(sha256(bytes), checksum)) {
      throw new StorageException(
        'checksum_mismatch',
        'checksum does not match the blob (SHA-256 of the raw bytes, lowercase hex)',
      );
    }
    return bytes;
  }

  /** A new key per written version: `{user_id}/{table}/{record_id}.{random}`. */
  private newKey(userId: string, table: string, id: string): string {
    return `${userId}/${table}/${id}.${randomBytes(6).toString('hex')}`;
  }

  /** After commit: tell the user's connected clients (a hint; the feed is the truth). */
  private notify(record: StorageRecord, op: StorageChangedEvent['op']): void {
    this.events.emit('changed', record.userId, {
      id: record.id,
      table: record.tableName,
      version: record.version,
      op,
    });
  }
}

/** The change row of a write of `record` at `seq`. */
function changeOf(
  record: StorageRecord,
  seq: number,
  op: StorageChangedEvent['op'],
): Omit<StorageChange, 'changedAt'> {
  return {
    userId: record.userId,
    seq: String(seq),
    recordId: record.id,
    tableName: record.tableName,
    op,
    version: record.version,
    checksum: record.checksum,
    sizeBytes: record.sizeBytes,
  };
}

/** 409 when the client's base version is not the record's current one. */
function assertBase(current: StorageRecord, base: number | undefined): void {
  if (base === undefined || base === current.version) return;
  throw new StorageException(
    'version_conflict',
    `Version conflict: the record is at version ${current.version}; merge and retry with base_version ${current.version}`,
    { current_version: current.version, checksum: current.checksum },
  );
}
