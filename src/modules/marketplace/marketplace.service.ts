import { Injectable } from '@nestjs/common';
import {
  type ListPluginsQueryDto,
  mapPluginDetail,
  mapPluginSummary,
  type PluginDetailDto,
  type PluginListDto,
  type SigningKeyDto,
} from './dto/plugin.dto.js';
import { MarketplaceException } from './marketplace.errors.js';
import { MarketplaceRepository } from './marketplace.repository.js';
import { PluginSigningService } from './plugin-signing.service.js';

/** The catalog: only approved versions of unquarantined plugins are visible. */
@Injectable()
export class MarketplaceService {
  constructor(
    private readonly repository: MarketplaceRepository,
    private readonly signing: PluginSigningService,
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

  async get(id: string): Promise<PluginDetailDto> {
    const row = await this.repository.visiblePlugin(id);
    // Hidden and missing plugins answer alike, so the catalog does not reveal what is under review.
    if (!row) throw new MarketplaceException('not_found', `no plugin ${id} in the catalog`);
    return mapPluginDetail(row, await this.repository.approvedVersions(id));
  }

  async signingKey(): Promise<SigningKeyDto> {
    return { algorithm: 'ed25519', public_key: await this.signing.publicKey(), signed_digest: 'sha256' };
  }
}
