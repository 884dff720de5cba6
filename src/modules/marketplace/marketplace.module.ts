import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { blobKeyOwner } from '../../common/blob-store/blob-sweep.service.js';
import { PluginInstall } from './entities/plugin-install.entity.js';
import { PluginRating } from './entities/plugin-rating.entity.js';
import { PluginVersion } from './entities/plugin-version.entity.js';
import { Plugin } from './entities/plugin.entity.js';
import { MarketplaceController } from './marketplace.controller.js';
import { MarketplaceRepository } from './marketplace.repository.js';
import { MarketplaceSeedsService } from './marketplace-seeds.service.js';
import { MarketplaceService } from './marketplace.service.js';
import { PluginSigningService } from './plugin-signing.service.js';

/**
 * The plugin marketplace: the catalog (Power tier and up), the registry's
 * signing key, and the seed plugins' packages.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Plugin, PluginVersion, PluginInstall, PluginRating])],
  controllers: [MarketplaceController],
  providers: [
    MarketplaceService,
    MarketplaceRepository,
    MarketplaceSeedsService,
    PluginSigningService,
    // Packages live under `plugins/{plugin_id}/{version}.zip`, one per version row.
    blobKeyOwner({
      kind: 'plugin_package',
      pattern: /^plugins\/[a-z0-9-]{1,64}\/[0-9A-Za-z.+-]{1,64}\.zip$/,
      references: [{ table: 'plugin_versions', column: 'blob_key' }],
    }),
  ],
})
export class MarketplaceModule {}
