import { Injectable, Logger } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AuthUser } from '../../common/auth/auth-user.js';
import {
  BlobStore,
  type ByteRange,
  type StoredBlob,
  UploadRejected,
  type UploadedPart,
} from '../../common/blob-store/blob-store.js';
import { checksumMatches } from '../../common/checksum.js';
import { assertQuotaIncluded, quotaBytes } from '../auth/index.js';
import { AppConfig } from '../../config/app-config.js';
import { type AttachmentLink, AttachmentLinks } from './attachment-links.js';
import { contentRangeOf, partsOf, type PartPlan, rangeOf } from './attachment-plan.js';
import { AttachmentsRepository } from './attachments.repository.js';
import {
  type AttachmentDownloadDto,
  type AttachmentDto,
  type AttachmentUploadDto,
  type CompleteAttachmentDto,
  type CreateAttachmentDto,
  mapAttachment,
  type UploadRequestDto,
} from './dto/attachment.dto.js';
import { StorageAttachment } from './entities/storage-attachment.entity.js';
import { RecordsRepository } from './records.repository.js';
import { StorageQuotaService } from './storage-quota.service.js';
import { StorageEvents } from './storage.events.js';
import { StorageException } from './storage.errors.js';
import { StagingGate } from './staging-gate.js';

/** How long a download link works. */
export const DOWNLOAD_TTL_SECONDS = 300;
/** Expired uploads one sweep pass takes at a time. */
const SWEEP_BATCH = 100;

/**
 * Attachments: large encrypted files of a record that the client sends straight to the blob
 * store. Creating one reserves its size in the quota under the user's usage lock (so concurrent
 * creations cannot overshoot it) and hands out where to PUT the bytes; completing checks the
 * stored size and SHA-256 and turns the reservation into usage, or discards the upload and
 * frees the reservation; an upload never completed is swept with its reservation.
 */
@Injectable()
export class AttachmentsService {
  private readonly logger = new Logger('Attachments');

  constructor(
    private readonly attachments: AttachmentsRepository,
    private readonly records: RecordsRepository,
    private readonly quota: StorageQuotaService,
    private readonly blobs: BlobStore,
    private readonly links: AttachmentLinks,
    private readonly config: AppConfig,
    private readonly events: StorageEvents,
  ) {}

  async create(user: AuthUser, dto: CreateAttachmentDto): Promise<AttachmentUploadDto> {
    assertQuotaIncluded(user.tier, 'cloud_storage_gb');
    this.assertSizeAllowed(user, dto.size_bytes);
    const limits = this.config.attachments;
    const multipart = dto.size_bytes > limits.multipartBytes;
    const attachment = Object.assign(new StorageAttachment(), {
      userId: user.id,
      recordId: dto.record_id,
      sizeBytes: String(dto.size_bytes),
      checksum: dto.sha256,
      contentType: dto.content_type ?? null,
      partSize: String(multipart ? partSizeFor(dto.size_bytes, limits.partBytes) : 0),
      status: 'pending' as const,
      expiresAt: new Date(Date.now() + limits.uploadTtlMs),
      completedAt: null,
    });
    attachment.blobKey = `${user.id}/attachments/${attachment.id}`;
    attachment.uploadId = await this.blobs.beginDirectUpload(attachment.blobKey, { multipart });
    try {
      await this.reserve(user, attachment);
    } catch (err) {
      await this.abortQuietly(attachment);
      throw err;
    }
    return this.uploadPlan(attachment);
  }

  async complete(user: AuthUser, id: string, dto: CompleteAttachmentDto): Promise<AttachmentDto> {
    const attachment = await this.ownedOrThrow(user.id, id);
    if (attachment.status === 'complete') return mapAttachment(attachment);
    if (attachment.expiresAt.getTime() <= Date.now()) throw expired();
    const parts = this.partsToComplete(attachment, dto);
    await this.finishInStore(attachment, parts);
    await this.verifyStored(attachment);
    const completed = await this.quota.withUsageLock(user, async (tx) => {
      const row = await this.attachments.getForOwner(user.id, id, { tx, lock: true });
      if (!row || row.status !== 'pending') throw notFound();
      row.completedAt = await this.attachments.markComplete(tx, id);
      row.status = 'complete';
      return { value: row, deltaBytes: 0 };
    });
    this.notify(completed, 'upsert');
    return mapAttachment(completed);
  }

  async download(user: AuthUser, id: string): Promise<AttachmentDownloadDto> {
    const attachment = await this.ownedOrThrow(user.id, id);
    if (attachment.status !== 'complete') {
      throw new StorageException('upload_incomplete', 'The attachment is still uploading: complete it first');
    }
    const expires = Date.now() + DOWNLOAD_TTL_SECONDS * 1000;
    const presigned = await this.blobs.presignedGetUrl(attachment.blobKey, DOWNLOAD_TTL_SECONDS);
    const url = presigned ?? (await this.links.url('download', id, expires));
    return { ...mapAttachment(attachment), download_url: url, expires_at: expires };
  }

  async listForRecord(user: AuthUser, recordId: string): Promise<AttachmentDto[]> {
    const record = await this.records.getLiveForOwner(user.id, recordId);
    if (!record) throw new StorageException('not_found', 'Record not found');
    return (await this.attachments.listForRecord(user.id, recordId)).map(mapAttachment);
  }

  /** Deletes the attachment (complete or uploading) and frees its quota; its bytes go after the commit. */
  async remove(user: AuthUser, id: string): Promise<void> {
    const removed = await this.quota.withUsageLock(user, async (tx) => {
      const row = await this.attachments.getForOwner(user.id, id, { tx, lock: true });
      if (!row) throw notFound();
      await this.attachments.delete(tx, id);
      return { value: row, deltaBytes: -Number(row.sizeBytes) };
    });
    await this.abortQuietly(removed);
    if (removed.status === 'complete') this.notify(removed, 'delete');
  }

  /**
   * Files driver: one PUT of the signed upload route, the whole file or one part, or a
   * `Content-Range` of either. The bytes are written into the upload's staging file at their
   * offset; a PUT of the whole file from its first byte is hashed on the way, and wrong bytes end
   * the attachment at once (400 checksum_mismatch, reservation freed).
   */
  async receive(
    id: string,
    link: AttachmentLink,
    body: Readable,
    headers: { contentLength?: string; contentRange?: string },
  ): Promise<{ etag: string; received: ByteRange }> {
    await this.links.verify('upload', id, link);
    const attachment = await this.pendingById(id);
    const target = this.targetOf(attachment, link.part);
    const range = contentRangeOf(headers.contentRange, target.size);
    const length = range.end - range.start + 1;
    if (headers.contentLength !== undefined && Number(headers.contentLength) !== length) {
      throw new StorageException(
        'validation_failed',
        `Content-Length must be ${length} for this part or range`,
      );
    }
    const wholeFile = link.part === undefined && range.start === 0 && length === target.size;
    const gate = new StagingGate(length, wholeFile ? attachment.checksum : undefined);
    // pipeline: a client that goes away mid-body fails the gate instead of leaving it waiting.
    const feeding = pipeline(body, gate).catch(() => undefined);
    try {
      await this.blobs.writeStaged(attachment.blobKey, target.offset + range.start, gate, length);
    } catch {
      gate.abandon();
      await feeding;
      if (gate.mismatched) await this.discard(attachment, 'checksum_mismatch');
      throw gate.failure ?? interrupted();
    }
    if (gate.bytes !== length) throw interrupted();
    return { etag: `"${link.part ?? 1}-${target.size}"`, received: range };
  }

  /** Files driver: the bytes behind a signed download link, or the requested range of them. */
  async open(
    id: string,
    link: AttachmentLink,
    rangeHeader?: string,
  ): Promise<{ blob: StoredBlob; range?: ByteRange; sha256: string }> {
    await this.links.verify('download', id, link);
    const attachment = await this.attachments.getById(id);
    if (!attachment || attachment.status !== 'complete') throw notFound();
    const range = rangeHeader ? rangeOf(rangeHeader, Number(attachment.sizeBytes)) : undefined;
    const blob = await this.blobs.get(attachment.blobKey, range);
    if (!blob) throw notFound();
    return { blob, range, sha256: attachment.checksum };
  }

  /**
   * Removes uploads not completed by their deadline (as of `now`), with their reservations and
   * whatever bytes arrived. Safe on every instance: each one is taken under its owner's usage lock.
   */
  async sweepExpired(now = new Date()): Promise<number> {
    let swept = 0;
    for (;;) {
      const batch = await this.attachments.expiredPending(now, SWEEP_BATCH);
      for (const attachment of batch) {
        if (await this.release(attachment, (row) => row.status === 'pending' && row.expiresAt < now))
          swept += 1;
      }
      if (batch.length < SWEEP_BATCH) return swept;
    }
  }

  /** Deletes a record's attachments inside the record's own deletion (`tx`); answers the bytes freed and what to remove after the commit. */
  async detachAll(
    tx: Parameters<AttachmentsRepository['deleteForRecord']>[0],
    userId: string,
    recordId: string,
  ): Promise<{ freed: number; gone: StorageAttachment[] }> {
    const gone = await this.attachments.deleteForRecord(tx, userId, recordId);
    return { freed: gone.reduce((sum, a) => sum + Number(a.sizeBytes), 0), gone };
  }

  /** After a record's deletion committed: the bytes of its attachments. */
  async removeBytes(gone: StorageAttachment[]): Promise<void> {
    for (const attachment of gone) {
      await this.abortQuietly(attachment);
      if (attachment.status === 'complete') this.notify(attachment, 'delete');
    }
  }

  private async reserve(user: AuthUser, attachment: StorageAttachment): Promise<void> {
    await this.quota.withUsageLock(user, async (tx) => {
      const record = await this.records.getLiveForOwner(user.id, attachment.recordId, { tx, lock: true });
      if (!record) throw new StorageException('not_found', 'Record not found');
      const pending = await this.attachments.countPending(tx, user.id);
      if (pending >= this.config.attachments.maxPending) {
        throw new StorageException(
          'limit_reached',
          `${pending} attachment uploads are unfinished (at most ${this.config.attachments.maxPending}): ` +
            'complete or delete one first',
        );
      }
      await this.attachments.insert(tx, attachment);
      return { value: undefined, deltaBytes: Number(attachment.sizeBytes) };
    });
  }

  private async uploadPlan(attachment: StorageAttachment): Promise<AttachmentUploadDto> {
    const expires = attachment.expiresAt.getTime();
    const base = { attachment_id: attachment.id, expires_at: expires };
    const size = Number(attachment.sizeBytes);
    if (attachment.partSize === '0') {
      return { ...base, upload: await this.wholeUpload(attachment, size, expires), parts: null };
    }
    const parts = partsOf(size, Number(attachment.partSize));
    return {
      ...base,
      upload: null,
      parts: await Promise.all(parts.map((p) => this.partUpload(attachment, p, expires))),
    };
  }

  private async wholeUpload(
    attachment: StorageAttachment,
    size: number,
    expires: number,
  ): Promise<UploadRequestDto> {
    const presigned = await this.blobs.presignedPut(attachment.blobKey, {
      size,
      sha256: attachment.checksum,
      expiresInSeconds: secondsUntil(expires),
    });
    const request = presigned ?? {
      url: await this.links.url('upload', attachment.id, expires),
      headers: { 'content-type': 'application/octet-stream' },
    };
    return { method: 'PUT', ...request, expires_at: expires };
  }

  private async partUpload(attachment: StorageAttachment, part: PartPlan, expires: number) {
    const presigned = attachment.uploadId
      ? await this.blobs.presignedPartPut(attachment.blobKey, {
          uploadId: attachment.uploadId,
          partNumber: part.number,
          size: part.size,
          expiresInSeconds: secondsUntil(expires),
        })
      : null;
    const request = presigned ?? {
      url: await this.links.url('upload', attachment.id, expires, part.number),
      headers: { 'content-type': 'application/octet-stream' },
    };
    return {
      method: 'PUT' as const,
      ...request,
      expires_at: expires,
      part_number: part.number,
      offset: part.offset,
      size_bytes: part.size,
    };
  }

  /** The parts a multipart completion names, each exactly once, in order; none for one PUT. */
  private partsToComplete(attachment: StorageAttachment, dto: CompleteAttachmentDto): UploadedPart[] {
    if (attachment.partSize === '0') return [];
    const expected = partsOf(Number(attachment.sizeBytes), Number(attachment.partSize)).length;
    const given = [...(dto.parts ?? [])].sort((a, b) => a.part_number - b.part_number);
    if (given.length !== expected || given.some((p, i) => p.part_number !== i + 1)) {
      throw new StorageException(
        'upload_incomplete',
        `parts must list each of the ${expected} parts once, with the ETag its PUT answered`,
      );
    }
    return given.map((p) => ({ partNumber: p.part_number, etag: p.etag }));
  }

  /** Completes the store's upload; parts the store does not have (or other ETags) leave the upload open. */
  private async finishInStore(attachment: StorageAttachment, parts: UploadedPart[]): Promise<void> {
    try {
      await this.blobs.finishDirectUpload(attachment.blobKey, attachment.uploadId, parts);
    } catch (err) {
      if (!(err instanceof UploadRejected)) throw err;
      throw new StorageException('upload_incomplete', `${err.message}: upload every part, send its ETag`);
    }
  }

  /** Size, then SHA-256 of what the store holds; a mismatch discards the upload and frees its reservation. */
  private async verifyStored(attachment: StorageAttachment): Promise<void> {
    const head = await this.blobs.head(attachment.blobKey);
    if (!head)
      throw new StorageException('upload_incomplete', 'Nothing has been uploaded yet: PUT the bytes first');
    const size = Number(attachment.sizeBytes);
    if (head.size !== size) {
      await this.discard(attachment, 'upload_incomplete');
      throw new StorageException(
        'upload_incomplete',
        `The store holds ${head.size} bytes, not the ${size} announced; create the attachment again`,
      );
    }
    const digest = head.sha256 ?? (await this.blobs.sha256Of(attachment.blobKey));
    if (!checksumMatches(Buffer.from(digest, 'hex'), attachment.checksum)) {
      await this.discard(attachment, 'checksum_mismatch');
      throw new StorageException(
        'checksum_mismatch',
        'The uploaded bytes do not match sha256: nothing was kept; create the attachment again',
      );
    }
  }

  /** Ends a pending attachment that failed its checks: row and reservation gone, bytes removed. */
  private async discard(attachment: StorageAttachment, why: string): Promise<void> {
    await this.release(attachment, (row) => row.status === 'pending');
    this.logger.log({
      msg: 'Attachment upload refused',
      reason: why,
      size_bytes: Number(attachment.sizeBytes),
    });
  }

  /** Deletes the row when `still(row)` holds under the usage lock, frees its bytes from the quota, then removes its bytes. */
  private async release(
    attachment: StorageAttachment,
    still: (row: StorageAttachment) => boolean,
  ): Promise<boolean> {
    const gone = await this.quota.withUsageLock({ id: attachment.userId }, async (tx) => {
      const row = await this.attachments.getForOwner(attachment.userId, attachment.id, { tx, lock: true });
      if (!row || !still(row)) return { value: false, deltaBytes: 0 };
      await this.attachments.delete(tx, row.id);
      return { value: true, deltaBytes: -Number(row.sizeBytes) };
    });
    if (gone) await this.abortQuietly(attachment);
    return gone;
  }

  private async abortQuietly(attachment: StorageAttachment): Promise<void> {
    try {
      await this.blobs.abortDirectUpload(attachment.blobKey, attachment.uploadId);
    } catch (err) {
      // The blob sweep removes it later: no row names it any more.
      this.logger.warn(
        `Could not remove an attachment's bytes (the blob sweep will): ${(err as Error).message}`,
      );
    }
  }

  private assertSizeAllowed(user: AuthUser, size: number): void {
    const quota = quotaBytes(user.tier, 'cloud_storage_gb');
    const max = Math.min(this.config.attachments.maxBytes, quota ?? Infinity);
    if (size > max) {
      throw new StorageException(
        'payload_too_large',
        `An attachment may have at most ${max} bytes on the ${user.tier} tier`,
      );
    }
  }

  private async ownedOrThrow(userId: string, id: string): Promise<StorageAttachment> {
    const attachment = await this.attachments.getForOwner(userId, id);
    if (!attachment) throw notFound();
    return attachment;
  }

  private async pendingById(id: string): Promise<StorageAttachment> {
    const attachment = await this.attachments.getById(id);
    if (!attachment || attachment.status !== 'pending') throw notFound();
    if (attachment.expiresAt.getTime() <= Date.now()) throw expired();
    return attachment;
  }

  /** Where a part (or the whole file) lies in the file. */
  private targetOf(
    attachment: StorageAttachment,
    part: number | undefined,
  ): { offset: number; size: number } {
    const size = Number(attachment.sizeBytes);
    if (attachment.partSize === '0') {
      if (part !== undefined) throw notFound();
      return { offset: 0, size };
    }
    const plan = partsOf(size, Number(attachment.partSize)).find((p) => p.number === part);
    if (!plan) throw notFound();
    return { offset: plan.offset, size: plan.size };
  }

  private notify(attachment: StorageAttachment, op: 'upsert' | 'delete'): void {
    this.events.emit('changed', attachment.userId, {
      id: attachment.id,
      table: 'attachments',
      version: 1,
      op,
      record_id: attachment.recordId,
    });
  }
}

/** Part size for a file of `size`: the configured one, larger when S3's 10,000 parts would not hold it (whole MiB). */
function partSizeFor(size: number, configured: number): number {
  const mib = 1024 * 1024;
  return Math.max(configured, Math.ceil(size / 10_000 / mib) * mib);
}

function secondsUntil(ms: number): number {
  return Math.min(7 * 24 * 3600, Math.max(1, Math.ceil((ms - Date.now()) / 1000)));
}

function notFound(): StorageException {
  return new StorageException('not_found', 'Attachment not found');
}

function expired(): StorageException {
  return new StorageException(
    'link_expired',
    'The upload was not completed in time; create the attachment again',
  );
}

function interrupted(): StorageException {
  return new StorageException(
    'upload_incomplete',
    'The upload was interrupted before all its bytes arrived: send them again',
  );
}
