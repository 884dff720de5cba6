import { HttpException, Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { BlobStore, type ByteRange, type StoredBlob } from '../../common/blob-store/blob-store.js';
import { assertQuotaIncluded, quotaBytes } from '../auth/index.js';
import { AppConfig } from '../../config/app-config.js';
import { UnitOfWork } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import { type BackupUploadMeta, parseBackupHeaders, parseRange } from './backup-request.js';
import { BackupRepository } from './backup.repository.js';
import { BackupException } from './backup.errors.js';
import { type BackupCreatedDto, type BackupInfoDto, mapBackupInfo } from './dto/backup.dto.js';
import { Backup } from './entities/backup.entity.js';
import { UploadGate } from './upload-gate.js';

export interface BackupDownload {
  row: BackupInfoDto;
  blob: StoredBlob;
  range?: ByteRange;
}

/** The quota an upload is checked against: the tier's bytes (null = unlimited) and what is stored now. */
interface QuotaView {
  quota: number | null;
  used: number;
}

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
    private readonly backups: BackupRepository,
    private readonly blobs: BlobStore,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async upload(user: AuthUser, body: Readable, headers: IncomingHttpHeaders): Promise<BackupCreatedDto> {
    const meta = parseBackupHeaders(headers);
    assertQuotaIncluded(user.tier, 'backup_gb');
    const view = { quota: quotaBytes(user.tier, 'backup_gb'), used: await this.backups.usedBytes(user.id) };
    const room = view.quota === null ? Infinity : view.quota - view.used;
    if (meta.contentLength !== undefined && meta.contentLength > room) {
      throw quotaExceeded(view.quota!, view.used, meta.contentLength);
    }
    const backup = Object.assign(new Backup(), { userId: user.id, version: meta.version });
    backup.blobKey = `${user.id}/backups/${backup.id}`;
    const stored = await this.store(backup.blobKey, body, meta, { room, view });
    try {
      Object.assign(backup, {
        timestamp: String(meta.timestamp),
        checksum: meta.checksum,
        sizeBytes: String(stored.size),
        chunkCount: stored.parts,
      });
      await this.commit(backup, view.quota);
      await this.enforceRetention(user.id);
      return { ok: true, id: backup.id, size_bytes: stored.size, created_at: backup.createdAt.getTime() };
    } catch (err) {
      await this.blobs.discard(backup.blobKey);
      throw err;
    }
  }

  async history(user: AuthUser): Promise<BackupInfoDto[]> {
    return (await this.backups.listForOwner(user.id)).map(mapBackupInfo);
  }

  /** The latest backup (id undefined) or one from the history, or the requested range of it. */
  async download(user: AuthUser, id: string | undefined, rangeHeader?: string): Promise<BackupDownload> {
    const backup = await this.backups.getForOwner(user.id, id);
    if (!backup) throw new BackupException('not_found', id ? 'Backup not found' : 'No backup yet');
    const range = rangeHeader ? parseRange(rangeHeader, Number(backup.sizeBytes)) : undefined;
    const blob = await this.blobs.get(backup.blobKey, range);
    if (!blob)
      throw new Error(`Blob ${backup.blobKey} of backup ${backup.id} is missing from the blob store`);
    return { row: mapBackupInfo(backup), blob, range };
  }

  async remove(user: AuthUser, id: string): Promise<void> {
    const deleted = await this.unitOfWork.run(async (tx) => {
      const backup = await this.backups.deleteForOwner(tx, user.id, id);
      if (!backup) throw new BackupException('not_found', 'Backup not found');
      await this.audit.record(
        {
          eventType: 'backup.deleted',
          actorId: user.id,
          subjectId: id,
          data: { size_bytes: Number(backup.sizeBytes) },
        },
        tx,
      );
      return backup;
    });
    await this.blobs.discard(deleted.blobKey);
  }

  /** Streams the body through the upload gate into the blob store under `key`. */
  private async store(
    key: string,
    body: Readable,
    meta: BackupUploadMeta,
    limits: { room: number; view: QuotaView },
  ): Promise<{ size: number; parts: number }> {
    const gate = new UploadGate({
      room: limits.room,
      tooLarge: (size) => quotaExceeded(limits.view.quota!, limits.view.used, size),
      checksum: meta.checksum,
    });
    const feeding = pipeline(body, gate).catch(() => undefined);
    try {
      return await this.blobs.put(key, gate, { checksum: meta.checksum, contentLength: meta.contentLength });
    } catch (err) {
      gate.abandon();
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
  }

  /** Writes the row once the bytes are stored, serialised per user so two uploads cannot together pass the quota. */
  private async commit(backup: Backup, quota: number | null): Promise<void> {
    await this.unitOfWork.run(async (tx) => {
      await this.backups.lockOwner(tx, backup.userId);
      const used = await this.backups.usedBytes(backup.userId, tx);
      const size = Number(backup.sizeBytes);
      if (quota !== null && used + size > quota) throw quotaExceeded(quota, used, size);
      await this.backups.insert(tx, backup);
    });
  }

  /** Keeps the newest BACKUP_KEEP backups of a user; rows go first, then their blobs. */
  private async enforceRetention(userId: string): Promise<void> {
    const keys = await this.backups.deleteAllButNewest(userId, this.config.backupKeep);
    for (const key of keys) await this.blobs.discard(key);
  }
}

function quotaExceeded(quota: number, used: number, adding: number): BackupException {
  return new BackupException(
    'quota_exceeded',
    `Backup quota exceeded: ${used} bytes stored + ${adding} would pass the ${quota}-byte limit. ` +
      'Delete an older backup or upgrade.',
  );
}
