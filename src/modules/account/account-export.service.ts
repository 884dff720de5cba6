import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { AccountDataRegistry } from '../../common/account-data/account-data.registry.js';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { BlobStore, type StoredBlob } from '../../common/blob-store/blob-store.js';
import { AccountLifecycleService } from '../auth/index.js';
import { AccountException } from './account.errors.js';
import { AccountEvents } from './account.events.js';
import { AccountRepository } from './account.repository.js';
import type { AccountExportDto } from './dto/account.dto.js';
import type { AccountExport } from './entities/account-export.entity.js';
import { ExportLinksService } from './export-links.service.js';
import { ZipAccountArchive } from './zip-account-archive.js';

const DAY = 24 * 3_600_000;
/** Exports one account may request per rolling day. */
export const EXPORTS_PER_DAY = 3;
/** How long a written archive is kept. */
export const ARCHIVE_KEEP_MS = 7 * DAY;

/** The key of an export's archive (claimed by AccountBlobReferences). */
export const archiveKey = (userId: string, exportId: string) => `${userId}/exports/${exportId}.zip`;

/**
 * Exports: requested by the owner, written by the background job into one
 * zip archive (every participant's files, account.json, manifest.json),
 * downloadable for 7 days through links valid 15 minutes.
 */
@Injectable()
export class AccountExportService {
  private readonly logger = new Logger('AccountExport');

  constructor(
    private readonly repository: AccountRepository,
    private readonly registry: AccountDataRegistry,
    private readonly blobs: BlobStore,
    private readonly links: ExportLinksService,
    private readonly events: AccountEvents,
    private readonly accounts: AccountLifecycleService,
  ) {}

  /** Queues an export: one queued or running at a time (409), three a day (429); atomic per account. */
  async request(user: AuthUser, includeBackups: boolean): Promise<AccountExportDto> {
    const since = new Date(Date.now() - DAY);
    const outcome = await this.repository.queueExport(
      { userId: user.id, includeBackups },
      since,
      EXPORTS_PER_DAY,
    );
    if ('queued' in outcome) return this.toDto(outcome.queued);
    if (outcome.refused === 'in_progress') {
      throw new AccountException(
        'export_in_progress',
        'An export of this account is already being written: wait for it (GET /account/export/{id})',
      );
    }
    const retryAfter = Math.max(1, Math.ceil((outcome.recent[0].getTime() + DAY - Date.now()) / 1000));
    throw new AccountException(
      'rate_limited',
      `At most ${EXPORTS_PER_DAY} exports a day; retry in ${retryAfter} s`,
      {
        retry_after: retryAfter,
      },
    );
  }

  async get(user: AuthUser, id: string): Promise<AccountExportDto> {
    const found = await this.repository.findExportForOwner(user.id, id);
    if (!found) throw new AccountException('not_found', 'Export not found');
    return this.toDto(found);
  }

  /** The archive behind a signed link (files driver). */
  async download(id: string, expires: number, signature: string): Promise<StoredBlob> {
    await this.links.verify(id, expires, signature);
    const found = await this.repository.findExport(id);
    const blob = found?.status === 'ready' && found.blobKey ? await this.blobs.get(found.blobKey) : null;
    if (!blob) throw new AccountException('not_found', 'This export is no longer available');
    return blob;
  }

  /** Writes the oldest queued export, if any; answers whether there was one. */
  async runNext(): Promise<boolean> {
    const job = await this.repository.claimExport();
    if (!job) return false;
    const key = archiveKey(job.userId, job.id);
    try {
      const written = await this.write(job, key);
      const expiresAt = new Date(Date.now() + ARCHIVE_KEEP_MS);
      await this.repository.finishExport(job.id, { status: 'ready', blobKey: key, ...written, expiresAt });
      this.events.emit('exportReady', job.userId, { id: job.id, expires_at: expiresAt.getTime() });
    } catch (err) {
      this.logger.error(`Export ${job.id} failed: ${(err as Error).message}`);
      await this.blobs.discard(key);
      await this.repository.finishExport(job.id, {
        status: 'failed',
        error: 'The archive could not be written; request a new export',
      });
    }
    return true;
  }

  /** Removes archives past their 7 days (and leftovers of failed exports); answers how many. */
  async sweepExpired(): Promise<number> {
    const expired = await this.repository.expiredExports(100);
    for (const row of expired) {
      await this.blobs.delete(row.blobKey!);
      await this.repository.markExpired(row.id);
    }
    return expired.length;
  }

  /** Streams every participant's part through the zip into the blob store, hashing the whole. */
  private async write(job: AccountExport, key: string): Promise<{ sizeBytes: string; checksum: string }> {
    const identity = await this.accounts.identityOf(job.userId);
    if (!identity) throw new Error('the account no longer exists');
    const archive = new ZipAccountArchive(job.includeBackups);
    const hash = createHash('sha256');
    const hashed = archive.output.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback(null, chunk);
        },
      }),
    );
    const upload = this.blobs.put(key, hashed).catch((err: Error) => {
      archive.abort(err);
      throw err;
    });
    const account = { userId: identity.id, email: identity.email };
    const produce = (async () => {
      for (const participant of this.registry.participants()) await participant.export(account, archive);
      await archive.finish({ export_id: job.id, account_id: job.userId, created_at: Date.now() });
    })().catch((err: Error) => {
      archive.abort(err);
      throw err;
    });
    const [stored] = await Promise.all([upload, produce]);
    return { sizeBytes: String(stored.size), checksum: hash.digest('hex') };
  }

  async toDto(row: AccountExport): Promise<AccountExportDto> {
    const ready = row.status === 'ready' && !!row.blobKey;
    const link = ready ? await this.links.linkFor(row.id, row.blobKey!) : null;
    return {
      id: row.id,
      status: row.status,
      include_backups: row.includeBackups,
      created_at: row.createdAt.getTime(),
      finished_at: row.finishedAt?.getTime() ?? null,
      size_bytes: row.sizeBytes === null ? null : Number(row.sizeBytes),
      checksum: row.checksum,
      expires_at: row.expiresAt?.getTime() ?? null,
      download_url: link?.url ?? null,
      download_expires_at: link?.expires_at ?? null,
      error: row.error,
    };
  }
}
