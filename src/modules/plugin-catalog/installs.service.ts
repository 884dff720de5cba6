import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import type { StoredBlob } from '../../common/blob-store/blob-store.js';
import type { PaginationQueryDto } from '../../common/dto/pagination.dto.js';
import {
  type InstalledPluginsDto,
  type InstallPluginDto,
  type InstallResultDto,
  mapInstalled,
  mapRating,
  type PackageLinkQueryDto,
  type RatePluginDto,
  type RatingPageDto,
  type RatingResultDto,
} from './dto/install.dto.js';
import { PurchasesService } from '../plugin-sales/index.js';
import { InstallsRepository } from './installs.repository.js';
import { type CatalogRow, PluginCatalogRepository } from './plugin-catalog.repository.js';
import { PluginCatalogException } from './plugin-catalog.errors.js';
import { PluginDownloadsService } from './plugin-downloads.service.js';
import { PluginSigningService } from './plugin-signing.service.js';

/**
 * Installs (one per user and plugin), their download links, and ratings by
 * users who installed the plugin. Only visible plugins can be installed or
 * rated; a quarantined plugin keeps its installs but serves no download.
 */
@Injectable()
export class InstallsService {
  constructor(
    private readonly installs: InstallsRepository,
    private readonly catalog: PluginCatalogRepository,
    private readonly downloads: PluginDownloadsService,
    private readonly signing: PluginSigningService,
    private readonly purchases: PurchasesService,
  ) {}

  async install(user: AuthUser, pluginId: string, dto: InstallPluginDto): Promise<InstallResultDto> {
    if (dto.plugin_id !== undefined && dto.plugin_id !== pluginId) {
      throw new PluginCatalogException(
        'validation_failed',
        `plugin_id ${dto.plugin_id} does not match the plugin in the path (${pluginId})`,
      );
    }
    const plugin = await this.visible(pluginId);
    if (plugin.price_cents > 0) await this.purchases.ensurePurchased(user, plugin);
    const signature = plugin.signature ?? (await this.signLive(plugin));
    await this.installs.install(user.id, plugin.id);
    const link = await this.downloads.linkFor({ id: plugin.version_id, blobKey: plugin.blob_key }, user.id);
    return { ok: true, version: plugin.version, ...link, sha256: plugin.sha256, signature };
  }

  /** Idempotent: uninstalling a plugin that is not installed (or unknown) succeeds. */
  async uninstall(user: AuthUser, pluginId: string): Promise<void> {
    await this.installs.uninstall(user.id, pluginId);
  }

  async installed(user: AuthUser): Promise<InstalledPluginsDto> {
    const rows = await this.installs.installed(user.id);
    const unpaid = await this.purchases.unpaidOf(
      user.id,
      rows.map((row) => row.plugin_id),
    );
    return { plugins: rows.map((row) => mapInstalled(row, unpaid.has(row.plugin_id))) };
  }

  async rate(user: AuthUser, pluginId: string, dto: RatePluginDto): Promise<RatingResultDto> {
    const plugin = await this.visible(pluginId);
    if (!(await this.installs.hasInstalled(user.id, plugin.id))) {
      throw new PluginCatalogException('forbidden', `install ${plugin.id} before rating it`);
    }
    const comment = dto.comment ?? null;
    await this.installs.rate(user.id, plugin.id, dto.stars, comment);
    return { stars: dto.stars, comment, ...(await this.installs.ratingSummary(plugin.id)) };
  }

  async ratings(pluginId: string, query: PaginationQueryDto): Promise<RatingPageDto> {
    const plugin = await this.visible(pluginId);
    const [ratings, total] = await this.installs.ratingsOf(
      plugin.id,
      query.limit,
      (query.page - 1) * query.limit,
    );
    return { items: ratings.map(mapRating), total, page: query.page, limit: query.limit };
  }

  /** The package behind a files-driver link: a valid link, for a user who still has the plugin installed. */
  async download(versionId: string, link: PackageLinkQueryDto): Promise<StoredBlob> {
    const userId = await this.downloads.verify(versionId, {
      user: link.user,
      expires: Number(link.expires),
      signature: link.signature,
    });
    const version = await this.catalog.downloadable(versionId, userId);
    // A purchase refunded, or bought again and not paid yet, serves no download.
    const unpaid = version && (await this.purchases.unpaidOf(userId, [version.plugin_id]));
    if (!version || unpaid?.has(version.plugin_id))
      throw new PluginCatalogException('not_found', 'this package is no longer available');
    return this.downloads.open(version.blob_key);
  }

  private async visible(pluginId: string): Promise<CatalogRow> {
    const plugin = await this.catalog.visiblePlugin(pluginId);
    if (!plugin) throw new PluginCatalogException('not_found', `no plugin ${pluginId} in the catalog`);
    return plugin;
  }

  /** A live version approved before the key existed (a seed on a first start that could not sign). */
  private async signLive(plugin: CatalogRow): Promise<string> {
    const signature = await this.signing.signDigest(plugin.sha256);
    await this.catalog.setSignature(plugin.version_id, signature);
    return signature;
  }
}
