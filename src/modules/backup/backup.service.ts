import { HttpException, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataSource } from 'typeorm';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { BlobStore, type ByteRange, type StoredBlob } from '../../common/blob-store/blob-store.js';
import { CHECKSUM_PATTERN, checksumMatches } from '../../common/checksum.js';
import { OffThreadHash } from '../../common/hashing/off-thread-hash.js';
import { FEATURES, TIERS, type Tier } from '../../common/tiers/tiers.js';
import { AppConfig } from '../../config/app-config.js';
import { AuditService } from '../audit/index.js';
import type { BackupCreatedDto, BackupInfoDto } from './dto/backup.dto.js';
import { BackupException } from './backup.errors.js';

const GIB = 1024 ** 3;

interface BackupRow {
  id: string;
  blob_key: string;
  version: number;
  timestamp: string;
  checksum: string;
  size_bytes: string;
  chunk_count: number;
  created_at: Date;
}

export interface BackupDownload {
  row: BackupInfoDto;
  blob: StoredBlob;
  range?: ByteRange;
}

/** Bytes of backup storage a tier includes; null = unlimited. */
function backupQuota(tier: Tier): number | null {
  const gb = FEATURES[tier].backup_gb;
  return gb < 0 ? null : gb * GIB;
}

const toInfo = (r: BackupRow): BackupInfoDto => ({
  id: r.id,
  version: r.version,
  timestamp: Number(r.timestamp),
  checksum: r.checksum,
  chunk_count: r.chunk_count,
  size_bytes: Number(r.size_bytes),
  created_at: r.created_at.getTime(),
});

/**
 * Encrypted backups, streamed: the body is hashed and counted as it passes
 * into the blob store (S3 multipart or a temp file renamed into place) and
 * never held in memory. A checksum mismatch, a quota excess or a dropped
 * connection fails the store's write, which leaves no object; the row and
 * the quota are only touched after the bytes are safely stored.
 */
@Injectable()
export class BackupService {
  constructor(
    private readonly ds: DataSource,
    private readonly blobs: BlobStore,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
  ) {}

  async upload(user: AuthUser, body: Readable, headers: IncomingHttpHeaders): Promise<BackupCreatedDto> {
    const meta = parseHeaders(headers);
    const quota = backupQuota(user.tier);
    if (quota === 0) {
      const needed = TIERS.find((t) => backupQuota(t) !== 0)!;
      throw new BackupException(
        'quota_exceeded',
        `Backups are not included in the ${user.tier} tier; they need the ${needed} tier or higher`,
        { required_tier: needed },
      );
    }
    const used = await this.usedBytes(user.id);
    const room = quota === null ? Infinity : quota - used;
    if (meta.contentLength !== undefined && meta.contentLength > room) {
      throw quotaExceeded(quota!, used, meta.contentLength);
    }

    const id = randomUUID();
    const key = `${user.id}/backups/${id}`;
    const hash = new OffThreadHash();
    let size = 0;
    const gate = new Transform({
      // Room for a few MiB between the socket and the store, so neither side waits on the other per chunk.
      highWaterMark: 4 * 1024 * 1024,
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > room) return done(quotaExceeded(quota!, used, size));
        hash.update(chunk);
        // Passed on as they come (no copying into bigger buffers): the store batches them itself.
        // When the hashing worker falls behind, wait for it (bounded memory).
        const ready = hash.ready();
        if (!ready) return done(null, chunk);
        void ready.then(() => done(null, chunk));
      },
      flush(done) {
        // Fails the write before the object is finalised: a mismatch stores nothing.
        hash.digest().then(
          (digest) =>
            checksumMatches(digest, meta.checksum)
              ? done()
              : done(
                  new BackupException(
                    'checksum_mismatch',
                    'X-Backup-Checksum does not match the SHA-256 of the body',
                  ),
                ),
          (err: Error) => done(err),
        );
      },
    });
    const feeding = pipeline(body, gate).catch(() => undefined);
    let stored: { size: number; parts: number };
    try {
      stored = await this.blobs.put(key, gate, {
        checksum: meta.checksum,
        contentLength: meta.contentLength,
      });
    } catch (err) {
      gate.destroy();
      hash.discard();
      await feeding;
      if (err instanceof HttpException) throw err;
      if (body.destroyed || (body as { aborted?: boolean }).aborted) {
        throw new BackupException(
          'upload_incomplete',
          'The upload was interrupted before the whole body arrived',
        );
      }
      throw err;
    }
    try {
      const row = await this.ds.transaction(async (m) => {
        // Serialise one user's commits: two uploads cannot together pass the quota.
        await m.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [user.id]);
        const [{ used: now }] = await m.query<Array<{ used: string }>>(
          'SELECT COALESCE(sum(size_bytes), 0)::text AS used FROM backups WHERE user_id = $1',
          [user.id],
        );
        if (quota !== null && Number(now) + stored.size > quota)
          throw quotaExceeded(quota, Number(now), stored.size);
        const [created] = await m.query<Array<{ created_at: Date }>>(
          `INSERT INTO backups (id, user_id, blob_key, version, timestamp, checksum, size_bytes, chunk_count)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING created_at`,
          [id, user.id, key, meta.version, meta.timestamp, meta.checksum, stored.size, stored.parts],
        );
        return created;
      });
      await this.enforceRetention(user.id);
      return { ok: true, id, size_bytes: stored.size, created_at: row.created_at.getTime() };
    } catch (err) {
      await this.blobs.discard(key);
      throw err;
    }
  }

  async history(user: AuthUser): Promise<BackupInfoDto[]> {
    const rows = await this.ds.query<BackupRow[]>(
      `SELECT id, blob_key, version, timestamp, checksum, size_bytes, chunk_count, created_at FROM backups
        WHERE user_id = $1 ORDER BY created_at DESC, id DESC`,
      [user.id],
    );
    return rows.map(toInfo);
  }

  /** The latest backup (id undefined) or one from the history, or the requested range of it. */
  async download(user: AuthUser, id: string | undefined, rangeHeader?: string): Promise<BackupDownload> {
    const [row] = await this.ds.query<BackupRow[]>(
      `SELECT id, blob_key, version, timestamp, checksum, size_bytes, chunk_count, created_at FROM backups
        WHERE user_id = $1 AND ($2::uuid IS NULL OR id = $2) ORDER BY created_at DESC, id DESC LIMIT 1`,
      [user.id, id ?? null],
    );
    if (!row) throw new BackupException('not_found', id ? 'Backup not found' : 'No backup yet');
    const size = Number(row.size_bytes);
    const range = rangeHeader ? parseRange(rangeHeader, size) : undefined;
    const blob = await this.blobs.get(row.blob_key, range);
    if (!blob) throw new Error(`Blob ${row.blob_key} of backup ${row.id} is missing from the blob store`);
    return { row: toInfo(row), blob, range };
  }

  async remove(user: AuthUser, id: string): Promise<void> {
    const key = await this.ds.transaction(async (m) => {
      const [row] = await m.query<Array<{ blob_key: string; size_bytes: string }>>(
        'SELECT blob_key, size_bytes FROM backups WHERE id = $1 AND user_id = $2 FOR UPDATE',
        [id, user.id],
      );
      if (!row) throw new BackupException('not_found', 'Backup not found');
      await m.query('DELETE FROM backups WHERE id = $1', [id]);
      await this.audit.record(
        {
          eventType: 'backup.deleted',
          actorId: user.id,
          subjectId: id,
          data: { size_bytes: Number(row.size_bytes) },
        },
        m,
      );
      return row.blob_key;
    });
    await this.blobs.discard(key);
  }

  private async usedBytes(userId: string): Promise<number> {
    const [{ used }] = await this.ds.query<Array<{ used: string }>>(
      'SELECT COALESCE(sum(size_bytes), 0)::text AS used FROM backups WHERE user_id = $1',
      [userId],
    );
    return Number(used);
  }

  /** Keeps the newest BACKUP_KEEP backups of a user; rows go first, then their blobs. */
  private async enforceRetention(userId: string): Promise<void> {
    const old = await this.ds.query<Array<{ id: string; blob_key: string }>>(
      `SELECT id, blob_key FROM backups WHERE user_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2`,
      [userId, this.config.backupKeep],
    );
    if (old.length === 0) return;
    await this.ds.query('DELETE FROM backups WHERE id = ANY($1::uuid[])', [old.map((o) => o.id)]);
    for (const o of old) await this.blobs.discard(o.blob_key);
  }
}

function quotaExceeded(quota: number, used: number, adding: number): BackupException {
  return new BackupException(
    'quota_exceeded',
    `Backup quota exceeded: ${used} bytes stored + ${adding} would pass the ${quota}-byte limit. ` +
      'Delete an older backup or upgrade.',
  );
}

function parseHeaders(h: IncomingHttpHeaders): {
  version: number;
  timestamp: number;
  checksum: string;
  contentLength?: number;
} {
  const one = (name: string) => {
    const v = h[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const problems: string[] = [];
  const version = one('x-backup-version');
  const timestamp = one('x-backup-timestamp');
  const checksum = one('x-backup-checksum');
  if (!version || !/^\d{1,9}$/.test(version))
    problems.push('X-Backup-Version must be a non-negative integer');
  if (!timestamp || !/^\d{1,15}$/.test(timestamp))
    problems.push('X-Backup-Timestamp must be an integer (ms since epoch)');
  if (!checksum || !CHECKSUM_PATTERN.test(checksum)) {
    problems.push('X-Backup-Checksum must be the lowercase hex SHA-256 of the body');
  }
  if (problems.length) throw new BackupException('validation_failed', problems);
  const length = one('content-length');
  return {
    version: Number(version),
    timestamp: Number(timestamp),
    checksum: checksum!,
    contentLength: length && /^\d+$/.test(length) ? Number(length) : undefined,
  };
}

/** One `bytes=` range (start-end, start-, or -suffix); 416 when it cannot be satisfied. */
function parseRange(header: string, size: number): ByteRange {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  let start: number;
  let end: number;
  if (m && m[1] !== '') {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  } else if (m && m[2] !== '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = NaN;
    end = NaN;
  }
  if (!(start <= end) || start >= size) {
    throw new BackupException(
      'range_not_satisfiable',
      `Range not satisfiable: the backup has ${size} bytes`,
      { content_range: `bytes */${size}` },
    );
  }
  return { start, end };
}
