import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { BlobStore } from '../../common/blob-store/blob-store.js';
import { AppException } from '../../common/errors/app.exception.js';
import { RateLimitStore } from '../../common/rate-limit/rate-limit.store.js';
import { AppConfig } from '../../config/app-config.js';
import { type Tx, UnitOfWork } from '../../database/unit-of-work.js';
import { CheckRunner } from './check-runner.service.js';
import {
  type ChecksReport,
  type CheckResult,
  type PluginManifest,
  sharedBytesFromBase64,
} from './checks/index.js';
import {
  mapChecks,
  mapMyPlugin,
  type MyPluginsDto,
  type SubmissionDto,
  type SubmitPluginDto,
} from './dto/submission.dto.js';
import { type NewPluginVersion, pluginFieldsOf, PluginVersionsService } from '../plugin-catalog/index.js';
import { PluginSubmissionsException } from './plugin-submissions.errors.js';

/** Submissions waiting for a person (or for their checks) an account may have at once. */
export const MAX_PENDING_SUBMISSIONS = 5;

/** The window of the per-account submission limit (PLUGIN_SUBMISSIONS_PER_HOUR). */
const SUBMISSION_WINDOW_MS = 60 * 60 * 1000;

/** Ids that are paths of the plugin routes (`GET /plugins/mine`), so no plugin may take them. */
const RESERVED_IDS = new Set(['mine', 'installed', 'signing-key', 'packages', 'developer', 'earnings']);

/** A submission that passed its checks (or whose checks could not run), ready to store. */
interface Accepted {
  manifest: PluginManifest;
  report: ChecksReport;
  bytes: Buffer;
  /** The route's plugin id (new version), or undefined for a new plugin. */
  pluginId?: string;
}

/**
 * Developer submissions: new plugins and new versions, each through the
 * automated checks before a person sees it. Nothing is stored for a
 * submission that fails them; one whose checks could not run is stored as
 * `checks_errored`, never as passed. Every submission counts against its
 * account's hourly limit as it arrives, failed ones too: checks cost the
 * same whether they pass or not.
 */
@Injectable()
export class SubmissionsService {
  /** Counters used while the shared store (Redis) is unreachable, as for the request rate limits. */

  constructor(
    private readonly plugins: PluginVersionsService,
    private readonly blobs: BlobStore,
    private readonly checks: CheckRunner,
    private readonly counters: RateLimitStore,
    private readonly config: AppConfig,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  /** `POST /plugins`: a new plugin (its id must be free) with its first version. */
  async submitPlugin(user: AuthUser, dto: SubmitPluginDto): Promise<SubmissionDto> {
    return this.store(user, await this.check(user, dto));
  }

  /** `POST /plugins/{id}/versions`: a new version of the caller's plugin. */
  async submitVersion(user: AuthUser, pluginId: string, dto: SubmitPluginDto): Promise<SubmissionDto> {
    const plugin = await this.plugins.findPlugin(pluginId);
    if (!plugin) throw new PluginSubmissionsException('not_found', `no plugin ${pluginId}`);
    if (plugin.authorId !== user.id) {
      throw new PluginSubmissionsException(
        'forbidden',
        `only the author of ${pluginId} may submit its versions`,
      );
    }
    return this.store(user, await this.check(user, dto, pluginId));
  }

  async mine(user: AuthUser): Promise<MyPluginsDto> {
    const plugins = await this.plugins.mine(user.id);
    return { plugins: plugins.map(({ plugin, versions }) => mapMyPlugin(plugin, versions)) };
  }

  /** Runs every check (on a worker thread); a failed one answers 400 with all the results. */
  private async check(user: AuthUser, dto: SubmitPluginDto, pluginId?: string): Promise<Accepted> {
    await this.countSubmission(user.id);
    await this.assertUnderPendingCap(user.id);
    // Shared memory: the worker reads these very bytes, and they are still here to store afterwards.
    const bytes = sharedBytesFromBase64(dto.package);
    const report = await this.checks.run(
      {
        manifest: dto.manifest,
        packageBytes: bytes,
        checksum: dto.checksum.toLowerCase(),
        existing: await this.plugins.othersPlugins(user.id),
      },
      user.id,
    );
    const results = [...report.results, ...routeProblems(report.manifest, pluginId)];
    const failed = results.some((r) => r.status === 'failed');
    if (failed || !report.manifest) {
      throw new PluginSubmissionsException(
        'plugin_checks_failed',
        failed
          ? 'the submission failed its automated checks: see checks'
          : 'the manifest could not be checked: submit again',
        { checks: mapChecks(results) },
      );
    }
    return { manifest: report.manifest, report: { ...report, results }, bytes, pluginId };
  }

  /** Puts the package, then records the version in one transaction (the blob is discarded if that fails). */
  private async store(user: AuthUser, accepted: Accepted): Promise<SubmissionDto> {
    const { manifest, report, bytes } = accepted;
    const id = randomUUID();
    const version: NewPluginVersion = {
      id,
      pluginId: manifest.id,
      version: manifest.version,
      manifest: { ...manifest },
      status: report.verdict === 'errored' ? 'checks_errored' : 'pending_review',
      sha256: report.sha256,
      signature: null,
      size: bytes.length,
      checks: report.results,
      reviewNotes: null,
      reviewedAt: null,
      blobKey: `plugins/${manifest.id}/${id}.zip`,
    };
    await this.blobs.put(version.blobKey, bytes, { checksum: report.sha256, contentLength: bytes.length });
    let replacedKey: string | undefined;
    try {
      replacedKey = await this.unitOfWork.run((tx) =>
        this.record(tx, user, version, accepted.pluginId === undefined),
      );
    } catch (err) {
      await this.blobs.discard(version.blobKey);
      throw err;
    }
    if (replacedKey) await this.blobs.discard(replacedKey);
    return {
      id: version.pluginId,
      version: version.version,
      status: version.status,
      checks: mapChecks(version.checks),
    };
  }

  /** Inside the transaction: the cap, the id's owner, the version's uniqueness; answers a replaced blob. */
  private async record(
    tx: Tx,
    user: AuthUser,
    version: NewPluginVersion,
    newPlugin: boolean,
  ): Promise<string | undefined> {
    await this.plugins.lockAuthor(tx, user.id);
    await this.assertUnderPendingCap(user.id, tx);
    const manifest = version.manifest as unknown as PluginManifest;
    const plugin = await this.plugins.claim(tx, pluginFieldsOf(manifest), user.id);
    if (plugin.authorId !== user.id) {
      throw new PluginSubmissionsException(
        'plugin_id_taken',
        `the plugin id ${plugin.id} belongs to another author`,
      );
    }
    if (newPlugin && (await this.plugins.hasVersions(tx, plugin.id))) {
      throw new PluginSubmissionsException(
        'duplicate',
        `you already publish ${plugin.id}: submit new versions with POST /plugins/${plugin.id}/versions`,
      );
    }
    const existing = await this.plugins.findVersionForUpdate(tx, plugin.id, version.version);
    // Checks that could not run are not the author's fault: the same version may be submitted again.
    if (existing && existing.status !== 'checks_errored') {
      throw new PluginSubmissionsException(
        'duplicate',
        `version ${version.version} of ${plugin.id} was already submitted (${existing.status}): submit a higher version`,
      );
    }
    if (existing) await this.plugins.deleteVersion(tx, existing.id);
    await this.plugins.insertVersion(tx, version);
    return existing?.blobKey;
  }

  /**
   * Counts one submission of the account (fixed hourly windows, shared across instances with Redis);
   * past PLUGIN_SUBMISSIONS_PER_HOUR, 429 `rate_limited` with Retry-After until the window ends.
   */
  private async countSubmission(accountId: string): Promise<void> {
    const key = `plugin-submissions:${accountId}`;
    // The store counts in this process while the shared one (Redis) is unreachable.
    const hit = await this.counters.hit(key, SUBMISSION_WINDOW_MS);
    const limit = this.config.pluginSubmissionsPerHour;
    if (hit.count > limit) {
      const retryAfter = Math.max(1, Math.ceil(hit.resetMs / 1000));
      throw new AppException(
        'rate_limited',
        `at most ${limit} plugin submissions per hour, failed ones included: retry in ${retryAfter} s`,
        { retry_after: retryAfter },
      );
    }
  }

  private async assertUnderPendingCap(authorId: string, tx?: Tx): Promise<void> {
    const pending = await this.plugins.pendingCount(authorId, tx);
    if (pending >= MAX_PENDING_SUBMISSIONS) {
      throw new PluginSubmissionsException(
        'limit_reached',
        `you have ${pending} submissions waiting for review (at most ${MAX_PENDING_SUBMISSIONS}): wait for a decision first`,
      );
    }
  }
}

/** Problems of the submission as a request (not of the package): reserved ids, a manifest naming another plugin. */
function routeProblems(manifest: PluginManifest | undefined, pluginId: string | undefined): CheckResult[] {
  if (!manifest) return [];
  const problems: CheckResult[] = [];
  if (RESERVED_IDS.has(manifest.id)) {
    problems.push({
      check: 'manifest',
      status: 'failed',
      code: 'manifest_reserved_id',
      message: `the id ${manifest.id} is reserved by the API's routes: choose another`,
    });
  }
  if (pluginId !== undefined && manifest.id !== pluginId) {
    problems.push({
      check: 'manifest',
      status: 'failed',
      code: 'manifest_id_mismatch',
      message: `manifest.id is ${manifest.id} but this route adds a version to ${pluginId}`,
    });
  }
  return problems;
}
