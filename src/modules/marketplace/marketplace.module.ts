import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
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
  providers: [MarketplaceService, MarketplaceRepository, MarketplaceSeedsService, PluginSigningService],
})
export class MarketplaceModule {}
