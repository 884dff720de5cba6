import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { BlobStore } from '../../common/blob-store/blob-store.js';
import type { PaginationQueryDto } from '../../common/dto/pagination.dto.js';
import { type Tx, UnitOfWork } from '../../database/unit-of-work.js';
import { AccountsService } from '../auth/index.js';
import { AuditService } from '../audit/index.js';
import {
  type Plugin,
  pluginFieldsOf,
  PluginSigningService,
  type PluginVersion,
  PluginVersionsService,
  type ReviewOutcome,
} from '../plugin-catalog/index.js';
import type { PluginManifest } from './checks/index.js';
import {
  mapQueueItem,
  type QuarantinePluginDto,
  type QuarantineResultDto,
  type ReviewPluginDto,
  type ReviewQueuePageDto,
  type ReviewResultDto,
} from './dto/review.dto.js';
import { PluginSubmissionsException } from './plugin-submissions.errors.js';

/**
 * The admins' side: the review queue, decisions and quarantine. Every
 * decision is audited in the same transaction as the change; nobody reviews
 * their own plugin; an approved package is signed by the registry.
 */
@Injectable()
export class ReviewService {
  private readonly logger = new Logger('PluginReview');

  constructor(
    private readonly plugins: PluginVersionsService,
    private readonly signing: PluginSigningService,
    private readonly blobs: BlobStore,
    private readonly accounts: AccountsService,
    private readonly audit: AuditService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async queue(query: PaginationQueryDto): Promise<ReviewQueuePageDto> {
    const { items, total } = await this.plugins.reviewQueue(query.limit, (query.page - 1) * query.limit);
    const emails = await this.accounts.emailsOf([...new Set(items.map((i) => i.authorId))]);
    return {
      items: items.map((i) => mapQueueItem(i.version, i.authorId, emails.get(i.authorId) ?? null)),
      total,
      page: query.page,
      limit: query.limit,
    };
  }

  async review(admin: AuthUser, pluginId: string, dto: ReviewPluginDto): Promise<ReviewResultDto> {
    const plugin = await this.pluginOrNotFound(pluginId);
    if (plugin.authorId === admin.id) {
      throw new PluginSubmissionsException(
        'forbidden',
        'you cannot review your own plugin: another admin must',
      );
    }
    const version = await this.pendingVersion(plugin.id, dto.version);
    if (dto.decision === 'approved' && version.status !== 'pending_review') {
      throw new PluginSubmissionsException(
        'already_reviewed',
        `the checks of ${plugin.id} ${version.version} did not complete, so it cannot be approved: reject it and ` +
          'the author submits it again',
      );
    }
    const signature = dto.decision === 'approved' ? await this.signing.signDigest(version.sha256) : null;
    const decided = await this.unitOfWork.run((tx) =>
      this.recordDecision(tx, admin, plugin, version, { ...dto, signature }),
    );
    if (!decided.ok) {
      throw new PluginSubmissionsException(
        'already_reviewed',
        `${plugin.id} ${version.version} was decided meanwhile (${decided.status})`,
      );
    }
    return { plugin_id: plugin.id, version: version.version, status: dto.decision, signature };
  }

  /** The decision, the catalog fields of an approved manifest and the audit entry, in one transaction. */
  private async recordDecision(
    tx: Tx,
    admin: AuthUser,
    plugin: Plugin,
    version: PluginVersion,
    decision: ReviewPluginDto & { signature: string | null },
  ): Promise<ReviewOutcome> {
    const outcome = await this.plugins.decide(tx, version.id, {
      status: decision.decision,
      notes: decision.notes ?? null,
      signature: decision.signature,
    });
    if (!outcome.ok) return outcome;
    if (decision.decision === 'approved') {
      await this.plugins.updateCatalogFields(
        tx,
        pluginFieldsOf(version.manifest as unknown as PluginManifest),
      );
    }
    await this.audit.record(
      {
        eventType: `plugin.${decision.decision}`,
        actorId: admin.id,
        subjectId: plugin.authorId,
        reason: decision.notes ?? null,
        data: { plugin_id: plugin.id, version: version.version, sha256: version.sha256 },
      },
      tx,
    );
    return outcome;
  }

  /**
   * Hides the plugin at once (audited), then moves each package to a new key
   * so download links already given out stop working (an S3 presigned URL
   * cannot be revoked otherwise). A blob store failure leaves the plugin
   * hidden and says so; calling again finishes the move.
   */
  async quarantine(
    admin: AuthUser,
    pluginId: string,
    dto: QuarantinePluginDto,
  ): Promise<QuarantineResultDto> {
    const plugin = await this.pluginOrNotFound(pluginId);
    await this.unitOfWork.run(async (tx) => {
      if (!(await this.plugins.quarantine(tx, plugin.id, dto.reason))) return;
      await this.audit.record(
        {
          eventType: 'plugin.quarantined',
          actorId: admin.id,
          subjectId: plugin.authorId,
          reason: dto.reason,
          data: { plugin_id: plugin.id },
        },
        tx,
      );
    });
    const revoked = await this.movePackagesAside(plugin.id);
    const hidden = await this.pluginOrNotFound(plugin.id);
    return {
      ok: true,
      plugin_id: plugin.id,
      quarantined_at: hidden.quarantinedAt!.getTime(),
      downloads_revoked: revoked,
    };
  }

  private async movePackagesAside(pluginId: string): Promise<boolean> {
    let moved = true;
    for (const version of await this.plugins.packagesOf(pluginId)) {
      try {
        await this.movePackage(version);
      } catch (err) {
        moved = false;
        this.logger.error(
          `Could not move the package of ${pluginId} ${version.version}: ${(err as Error).message}`,
        );
      }
    }
    return moved;
  }

  /** Copy to a fresh key, point the row at it, delete the old object (whose links then fail). */
  private async movePackage(version: PluginVersion): Promise<void> {
    const blob = await this.blobs.get(version.blobKey);
    if (!blob) return;
    const key = `plugins/${version.pluginId}/${randomUUID()}.zip`;
    await this.blobs.put(key, blob.stream, { checksum: version.sha256, contentLength: blob.size });
    if (await this.plugins.movePackage(version.id, version.blobKey, key)) {
      await this.blobs.delete(version.blobKey);
    } else {
      await this.blobs.discard(key);
    }
  }

  private async pluginOrNotFound(pluginId: string): Promise<Plugin> {
    const plugin = await this.plugins.findPlugin(pluginId);
    if (!plugin) throw new PluginSubmissionsException('not_found', `no plugin ${pluginId}`);
    return plugin;
  }

  /** The version the decision is about: the one named, or the only one waiting. */
  private async pendingVersion(pluginId: string, version: string | undefined): Promise<PluginVersion> {
    const pending = await this.plugins.pendingVersions(pluginId);
    const chosen = version === undefined ? pending : pending.filter((v) => v.version === version);
    if (chosen.length === 1) return chosen[0];
    if (chosen.length === 0) {
      throw new PluginSubmissionsException(
        'already_reviewed',
        version === undefined
          ? `no version of ${pluginId} waits for review`
          : `version ${version} of ${pluginId} does not wait for review`,
      );
    }
    throw new PluginSubmissionsException(
      'validation_failed',
      `several versions of ${pluginId} wait for review (${chosen.map((v) => v.version).join(', ')}): name one in version`,
    );
  }
}
