import { Injectable } from '@nestjs/common';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { BlobStore, type StoredBlob } from '../../common/blob-store/blob-store.js';
import { checksumMatches, decodeBlob, sha256 } from '../../common/checksum.js';
import { AppConfig } from '../../config/app-config.js';
import { returningRows } from '../../database/sql.js';
import type {
  ChangesPageDto,
  ConflictPageDto,
  CreateRecordDto,
  DeviceInfoDto,
  RecordCreatedDto,
  RecordListDto,
  RecordUpdatedDto,
  UpdateRecordDto,
  UsageDto,
} from './dto/storage.dto.js';
import {
  applyUsage,
  assertTierHasStorage,
  checkQuota,
  lockUsage,
  quotaBytes,
  setUsage,
} from './storage-quota.js';
import { type StorageChangedEvent, type StorageQuotaEvent, StorageEvents } from './storage.events.js';
import { StorageException } from './storage.errors.js';

/** Devices a user may register. */
const MAX_DEVICES = 100;

/** How long tombstones and conflict copies are kept. */
export const RETENTION_MS = 30 * 24 * 3600 * 1000;

interface RecordRow {
  id: string;
  table_name: string;
  blob_key: string | null;
  checksum: string;
  size_bytes: string;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const toMeta = (r: RecordRow) => ({
  id: r.id,
  table: r.table_name,
  checksum: r.checksum,
  size_bytes: Number(r.size_bytes),
  version: r.version,
  created_at: r.created_at.getTime(),
  updated_at: r.updated_at.getTime(),
});

/**
 * End-to-end encrypted records. Every write: the blob under a new key first,
 * then one transaction (under the user's usage lock) for the row, the change
 * and the quota; the new blob is removed if the transaction fails, and the
 * replaced blob only after it commits. Readers never see a torn record.
 */
@Injectable()
export class StorageService {
  constructor(
    private readonly ds: DataSource,
    private readonly blobs: BlobStore,
    private readonly config: AppConfig,
    private readonly events: StorageEvents,
  ) {}

  async create(user: AuthUser, dto: CreateRecordDto): Promise<RecordCreatedDto> {
    assertTierHasStorage(user.tier);
    const bytes = this.decode(dto.blob, dto.checksum);
    const id = randomUUID();
    const key = this.newKey(user.id, dto.table, id);
    await this.blobs.put(key, bytes, { checksum: dto.checksum });
    try {
      const result = await this.ds.transaction(async (m) => {
        const lock = await lockUsage(m, user.id);
        checkQuota(lock, bytes.length, user.tier);
        const [row] = await m.query<Array<{ created_at: Date }>>(
          `INSERT INTO storage_records (id, user_id, table_name, blob_key, checksum, size_bytes, version, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, 1, now()) RETURNING created_at`,
          [id, user.id, dto.table, key, dto.checksum, bytes.length],
        );
        await this.recordChange(m, user.id, lock.nextSeq, {
          id,
          table: dto.table,
          op: 'upsert',
          version: 1,
          checksum: dto.checksum,
          size: bytes.length,
        });
        const quota = await applyUsage(m, user, lock, lock.usedBytes + bytes.length, lock.nextSeq + 1);
        return { created: { id, created_at: row.created_at.getTime(), version: 1 }, quota };
      });
      this.notify(user.id, { id, table: dto.table, version: 1, op: 'upsert' }, result.quota);
      return result.created;
    } catch (err) {
      await this.blobs.discard(key);
      throw err;
    }
  }

  async list(user: AuthUser, q: { table?: string; page: number; limit: number }): Promise<RecordListDto> {
    const filter = 'WHERE user_id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR table_name = $2)';
    const rows = await this.ds.query<RecordRow[]>(
      `SELECT id, table_name, blob_key, checksum, size_bytes, version, created_at, updated_at
         FROM storage_records ${filter} ORDER BY created_at, id LIMIT $3 OFFSET $4`,
      [user.id, q.table ?? null, q.limit, (q.page - 1) * q.limit],
    );
    const [{ total }] = await this.ds.query<Array<{ total: number }>>(
      `SELECT count(*)::int AS total FROM storage_records ${filter}`,
      [user.id, q.table ?? null],
    );
    return { records: rows.map(toMeta), total, page: q.page, limit: q.limit };
  }

  /** The record's bytes with its checksum and version. Another user's id is 404, as a missing one. */
  async download(
    user: AuthUser,
    id: string,
  ): Promise<{ blob: StoredBlob; checksum: string; version: number }> {
    const row = await this.live(this.ds.manager, user.id, id);
    const blob = row.blob_key ? await this.blobs.get(row.blob_key) : null;
    if (!blob) throw new Error(`Blob ${row.blob_key} of record ${id} is missing from the blob store`);
    return { blob, checksum: row.checksum, version: row.version };
  }

  async update(
    user: AuthUser,
    id: string,
    dto: UpdateRecordDto,
    ifMatch?: string,
  ): Promise<RecordUpdatedDto> {
    const base = dto.base_version ?? parseIfMatch(ifMatch);
    const bytes = this.decode(dto.blob, dto.checksum);
    // Cheap early answers before uploading anything; the transaction decides for real.
    const current = await this.live(this.ds.manager, user.id, id);
    if (base !== undefined && base !== current.version) throw staleBase(current);
    if (bytes.length > Number(current.size_bytes) || base === undefined) assertTierHasStorage(user.tier);

    const key = this.newKey(user.id, current.table_name, id);
    await this.blobs.put(key, bytes, { checksum: dto.checksum });
    let replaced: string | null = null;
    try {
      const result = await this.ds.transaction(async (m) => {
        const lock = await lockUsage(m, user.id);
        const old = await this.live(m, user.id, id, true);
        if (base !== undefined && base !== old.version) throw staleBase(old);
        const oldSize = Number(old.size_bytes);
        // Without a base the overwritten version is kept (and counted) as a conflict copy.
        const delta = base === undefined ? bytes.length : bytes.length - oldSize;
        checkQuota(lock, delta, user.tier);
        if (base === undefined) {
          await m.query(
            `INSERT INTO storage_conflicts (id, user_id, record_id, table_name, version, checksum, size_bytes, blob_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
            [randomUUID(), user.id, id, old.table_name, old.version, old.checksum, oldSize, old.blob_key],
          );
        } else {
          replaced = old.blob_key;
        }
        const version = old.version + 1;
        const [row] = await returningRows<{ updated_at: Date }>(
          m,
          `UPDATE storage_records SET blob_key = $2, checksum = $3, size_bytes = $4, version = $5, updated_at = now()
            WHERE id = $1 RETURNING updated_at`,
          [id, key, dto.checksum, bytes.length, version],
        );
        await this.recordChange(m, user.id, lock.nextSeq, {
          id,
          table: old.table_name,
          op: 'upsert',
          version,
          checksum: dto.checksum,
          size: bytes.length,
        });
        const quota = await applyUsage(m, user, lock, lock.usedBytes + delta, lock.nextSeq + 1);
        return {
          ok: true as const,
          version,
          updated_at: row.updated_at.getTime(),
          table: old.table_name,
          quota,
        };
      });
      if (replaced) await this.blobs.discard(replaced);
      this.notify(user.id, { id, table: result.table, version: result.version, op: 'upsert' }, result.quota);
      return { ok: true, version: result.version, updated_at: result.updated_at };
    } catch (err) {
      await this.blobs.discard(key);
      throw err;
    }
  }

  /** Tombstones the record: it leaves the listings, frees its quota, and is purged with its blob after 30 days. */
  async remove(user: AuthUser, id: string): Promise<void> {
    const done = await this.ds.transaction(async (m) => {
      const lock = await lockUsage(m, user.id);
      const old = await this.live(m, user.id, id, true);
      const version = old.version + 1;
      await m.query(
        'UPDATE storage_records SET deleted_at = now(), updated_at = now(), version = $2 WHERE id = $1',
        [id, version],
      );
      await this.recordChange(m, user.id, lock.nextSeq, {
        id,
        table: old.table_name,
        op: 'delete',
        version,
        checksum: old.checksum,
        size: 0,
      });
      await applyUsage(m, user, lock, lock.usedBytes - Number(old.size_bytes), lock.nextSeq + 1);
      return { table: old.table_name, version };
    });
    this.notify(user.id, { id, table: done.table, version: done.version, op: 'delete' });
  }

  async conflicts(user: AuthUser, q: { page: number; limit: number }): Promise<ConflictPageDto> {
    const rows = await this.ds.query<
      Array<{
        id: string;
        record_id: string;
        table_name: string;
        version: number;
        checksum: string;
        size_bytes: string;
        created_at: Date;
      }>
    >(
      `SELECT id, record_id, table_name, version, checksum, size_bytes, created_at FROM storage_conflicts
        WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`,
      [user.id, q.limit, (q.page - 1) * q.limit],
    );
    const [{ total }] = await this.ds.query<Array<{ total: number }>>(
      'SELECT count(*)::int AS total FROM storage_conflicts WHERE user_id = $1',
      [user.id],
    );
    return {
      conflicts: rows.map((r) => ({
        id: r.id,
        record_id: r.record_id,
        table: r.table_name,
        version: r.version,
        checksum: r.checksum,
        size_bytes: Number(r.size_bytes),
        created_at: r.created_at.getTime(),
      })),
      total,
      page: q.page,
      limit: q.limit,
    };
  }

  async conflictBlob(user: AuthUser, id: string): Promise<{ blob: StoredBlob; checksum: string }> {
    const [row] = await this.ds.query<Array<{ blob_key: string; checksum: string }>>(
      'SELECT blob_key, checksum FROM storage_conflicts WHERE id = $1 AND user_id = $2',
      [id, user.id],
    );
    if (!row) throw new StorageException('not_found', 'Conflict not found');
    const blob = await this.blobs.get(row.blob_key);
    if (!blob) throw new Error(`Blob ${row.blob_key} of conflict ${id} is missing from the blob store`);
    return { blob, checksum: row.checksum };
  }

  async usage(user: AuthUser): Promise<UsageDto> {
    const [row] = await this.ds.query<Array<{ used_bytes: string }>>(
      'SELECT used_bytes FROM storage_usage WHERE user_id = $1',
      [user.id],
    );
    const used = Number(row?.used_bytes ?? 0);
    const quota = quotaBytes(user.tier);
    return {
      used_bytes: used,
      quota_bytes: quota,
      percent:
        quota === null
          ? null
          : quota === 0
            ? used > 0
              ? 100
              : 0
            : Math.round((used / quota) * 10_000) / 100,
    };
  }

  /**
   * The user's changes after `cursor`, in commit order. A device that pulls
   * until has_more is false has seen every change exactly once.
   */
  async changes(
    user: AuthUser,
    cursor: string | undefined,
    limit: number,
    deviceId?: string,
  ): Promise<ChangesPageDto> {
    const after = this.parseCursor(user.id, cursor);
    const rows = await this.ds.query<
      Array<{
        seq: string;
        record_id: string;
        table_name: string;
        op: 'upsert' | 'delete';
        version: number;
        checksum: string;
        size_bytes: string;
        changed_at: Date;
      }>
    >(
      `SELECT seq, record_id, table_name, op, version, checksum, size_bytes, changed_at FROM storage_changes
        WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [user.id, after, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page.length ? Number(page[page.length - 1].seq) : after;
    if (deviceId) {
      await this.assertDeviceRoom(user.id, deviceId);
      await this.ds.query(
        `INSERT INTO devices (user_id, device_id, last_sync_at, cursor_seq) VALUES ($1, $2, now(), $3)
         ON CONFLICT (user_id, device_id)
         DO UPDATE SET last_sync_at = now(), cursor_seq = GREATEST(devices.cursor_seq, EXCLUDED.cursor_seq)`,
        [user.id, deviceId, last],
      );
    }
    return {
      changes: page.map((r) => ({
        id: r.record_id,
        table: r.table_name,
        op: r.op,
        version: r.version,
        checksum: r.checksum,
        size_bytes: Number(r.size_bytes),
        updated_at: r.changed_at.getTime(),
      })),
      next_cursor: this.cursorFor(user.id, last),
      has_more: rows.length > limit,
    };
  }

  async putDevice(user: AuthUser, deviceId: string, name: string): Promise<DeviceInfoDto> {
    await this.assertDeviceRoom(user.id, deviceId);
    await this.ds.query(
      `INSERT INTO devices (user_id, device_id, name) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, device_id) DO UPDATE SET name = EXCLUDED.name`,
      [user.id, deviceId, name],
    );
    return (await this.devices(user)).find((d) => d.device_id === deviceId)!;
  }

  async devices(user: AuthUser): Promise<DeviceInfoDto[]> {
    const rows = await this.ds.query<
      Array<{ device_id: string; name: string | null; last_sync_at: Date | null; cursor_seq: string }>
    >(
      'SELECT device_id, name, last_sync_at, cursor_seq FROM devices WHERE user_id = $1 ORDER BY created_at, device_id',
      [user.id],
    );
    return rows.map((r) => ({
      device_id: r.device_id,
      name: r.name,
      last_sync_at: r.last_sync_at ? r.last_sync_at.getTime() : null,
      cursor: this.cursorFor(user.id, Number(r.cursor_seq)),
    }));
  }

  /**
   * Removes tombstones and conflict copies older than 30 days (as of `now`),
   * rows first in a transaction, then their blobs. Returns what it removed.
   */
  async purge(now = new Date()): Promise<{ records: number; conflicts: number }> {
    const cutoff = new Date(now.getTime() - RETENTION_MS);
    const records = await returningRows<{ blob_key: string | null }>(
      this.ds.manager,
      'DELETE FROM storage_records WHERE deleted_at IS NOT NULL AND deleted_at < $1 RETURNING blob_key',
      [cutoff],
    );
    const recordKeys = records.map((r) => r.blob_key).filter((k): k is string => !!k);
    const conflictKeys: string[] = [];
    const expired = await this.ds.query<Array<{ user_id: string }>>(
      'SELECT DISTINCT user_id FROM storage_conflicts WHERE created_at < $1',
      [cutoff],
    );
    for (const { user_id: userId } of expired) {
      await this.ds.transaction(async (m) => {
        const lock = await lockUsage(m, userId);
        const gone = await m.query<Array<{ blob_key: string; size_bytes: string }>>(
          'SELECT blob_key, size_bytes FROM storage_conflicts WHERE user_id = $1 AND created_at < $2 FOR UPDATE',
          [userId, cutoff],
        );
        await m.query('DELETE FROM storage_conflicts WHERE user_id = $1 AND created_at < $2', [
          userId,
          cutoff,
        ]);
        const freed = gone.reduce((n, r) => n + Number(r.size_bytes), 0);
        await setUsage(m, userId, lock.usedBytes - freed, lock.nextSeq);
        conflictKeys.push(...gone.map((r) => r.blob_key));
      });
    }
    for (const key of [...recordKeys, ...conflictKeys]) await this.blobs.discard(key);
    return { records: recordKeys.length, conflicts: conflictKeys.length };
  }

  /** A new device id is refused past MAX_DEVICES, so a client cannot grow the table without bound. */
  private async assertDeviceRoom(userId: string, deviceId: string): Promise<void> {
    const [row] = await this.ds.query<Array<{ known: boolean; n: number }>>(
      `SELECT bool_or(device_id = $2) AS known, count(*)::int AS n FROM devices WHERE user_id = $1`,
      [userId, deviceId],
    );
    if (!row?.known && (row?.n ?? 0) >= MAX_DEVICES) {
      throw new StorageException('limit_reached', `At most ${MAX_DEVICES} devices per account`);
    }
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

  private async live(m: EntityManager, userId: string, id: string, lock = false): Promise<RecordRow> {
    const [row] = await m.query<RecordRow[]>(
      `SELECT id, table_name, blob_key, checksum, size_bytes, version, created_at, updated_at FROM storage_records
        WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL ${lock ? 'FOR UPDATE' : ''}`,
      [id, userId],
    );
    if (!row) throw new StorageException('not_found', 'Record not found');
    return row;
  }

  private async recordChange(
    m: EntityManager,
    userId: string,
    seq: number,
    c: {
      id: string;
      table: string;
      op: 'upsert' | 'delete';
      version: number;
      checksum: string;
      size: number;
    },
  ): Promise<void> {
    await m.query(
      `INSERT INTO storage_changes (user_id, seq, record_id, table_name, op, version, checksum, size_bytes, changed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())`,
      [userId, seq, c.id, c.table, c.op, c.version, c.checksum, c.size],
    );
  }

  /** After commit: tell the user's connected clients (a hint; the feed is the truth). */
  private notify(userId: string, change: StorageChangedEvent, quota?: StorageQuotaEvent): void {
    this.events.emit('changed', userId, change);
    if (quota) this.events.emit('quota', userId, quota);
  }

  /** Cursors are `<seq>.<mac>`: a cursor of another user, or a forged one, does not verify. */
  private cursorFor(userId: string, seq: number): string {
    const mac = createHmac('sha256', this.config.jwt.secret)
      .update(`cursor:${userId}:${seq}`)
      .digest('base64url');
    return `${seq}.${mac.slice(0, 22)}`;
  }

  private parseCursor(userId: string, cursor: string | undefined): number {
    if (!cursor) return 0;
    const m = /^(\d{1,18})\.([A-Za-z0-9_-]{22})$/.exec(cursor);
    if (m && this.cursorFor(userId, Number(m[1])) === cursor) return Number(m[1]);
    throw new StorageException(
      'invalid_cursor',
      'Invalid cursor: use next_cursor from a previous page of your own feed',
    );
  }
}

function staleBase(current: RecordRow): StorageException {
  return new StorageException(
    'version_conflict',
    `Version conflict: the record is at version ${current.version}; merge and retry with base_version ${current.version}`,
    { current_version: current.version, checksum: current.checksum },
  );
}

function parseIfMatch(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header.trim());
  if (!m) throw new StorageException('validation_failed', 'If-Match must be the record version, e.g. "3"');
  return Number(m[1]);
}
