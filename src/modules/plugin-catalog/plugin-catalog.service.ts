import { Injectable } from '@nestjs/common';
import {
  type ListPluginsQueryDto,
  mapOwnerDetail,
  mapPluginDetail,
  mapPluginSummary,
  type PluginDetailDto,
  type PluginListDto,
  type SigningKeyDto,
} from './dto/plugin.dto.js';
import { InstallsRepository } from './installs.repository.js';
import { PluginCatalogException } from './plugin-catalog.errors.js';
import { PluginVersionsRepository } from './plugin-versions.repository.js';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { PluginCatalogRepository } from './plugin-catalog.repository.js';
import { PluginSigningService } from './plugin-signing.service.js';

/** The catalog: only approved versions of unquarantined plugins are visible. */
@Injectable()
export class PluginCatalogService {
  constructor(
    private readonly repository: PluginCatalogRepository,
    private readonly signing: PluginSigningService,
    private readonly versions: PluginVersionsRepository,
    private readonly installs: InstallsRepository,
  ) {}

  async list(query: ListPluginsQueryDto): Promise<PluginListDto> {
    const { rows, total } = await this.repository.catalog({
      category: query.category,
      q: query.q?.trim() || undefined,
      sort: query.sort,
      limit: query.limit,
      offset: (query.page - 1) * query.limit,
    });
    return { plugins: rows.map(mapPluginSummary), total, page: query.page };
  }

  /**
   * Others see only a visible plugin and its approved versions; its author
   * and admins also see one not approved yet (or quarantined), and every
   * version with its status.
   */
  async get(user: AuthUser, id: string): Promise<PluginDetailDto> {
    const row = await this.repository.visiblePlugin(id);
    const plugin =
      row && row.author_id !== user.id && user.role !== 'admin' ? null : await this.versions.findPlugin(id);
    const insider = plugin !== null && (plugin.authorId === user.id || user.role === 'admin');
    if (!insider) {
      // Hidden and missing plugins answer alike, so the catalog does not reveal what is under review.
      if (!row) throw new PluginCatalogException('not_found', `no plugin ${id} in the catalog`);
      return mapPluginDetail(row, await this.repository.approvedVersions(id));
    }
    const versions = await this.versions.allVersions(id);
    if (row) return { ...mapPluginDetail(row, []), versions: mapOwnerDetail(plugin, versions, row).versions };
    const counts = await this.installs.ratingSummary(id);
    return mapOwnerDetail(plugin, versions, {
      ...counts,
      install_count: await this.installs.installCount(id),
    });
  }

  async signingKey(): Promise<SigningKeyDto> {
    return { algorithm: 'ed25519', public_key: await this.signing.publicKey(), signed_digest: 'sha256' };
  }
}
