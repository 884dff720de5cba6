import { Module } from '@nestjs/common';
import { provideAccountDataParticipant } from '../../common/account-data/account-data.registry.js';
import { CatalogAccountDataRepository } from './account-data.repository.js';
import { PluginCatalogAccountData } from './plugin-catalog.account-data.js';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideBlobReferences } from '../../common/blob-store/blob-sweep.service.js';
import { PluginSalesModule } from '../plugin-sales/index.js';
import { PluginInstall } from './entities/plugin-install.entity.js';
import { PluginRating } from './entities/plugin-rating.entity.js';
import { PluginVersion } from './entities/plugin-version.entity.js';
import { Plugin } from './entities/plugin.entity.js';
import { InstallsRepository } from './installs.repository.js';
import { InstallsService } from './installs.service.js';
import { PluginCatalogBlobReferences } from './plugin-catalog.blob-references.js';
import { PluginCatalogController } from './plugin-catalog.controller.js';
import { PluginCatalogRepository } from './plugin-catalog.repository.js';
import { PluginCatalogService } from './plugin-catalog.service.js';
import { PluginDownloadsService } from './plugin-downloads.service.js';
import { PluginSeedsService } from './plugin-seeds.service.js';
import { PluginSigningService } from './plugin-signing.service.js';
import { PluginVersionsRepository } from './plugin-versions.repository.js';
import { PluginVersionsService } from './plugin-versions.service.js';

/**
 * The plugin catalog (Power tier and up): plugins and their versions, installs
 * with signed download links, ratings, the registry's signing key and the seed
 * plugins. Plugin submissions write plugins and versions through
 * PluginVersionsService; a paid plugin's first install buys it through plugin
 * sales.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([Plugin, PluginVersion, PluginInstall, PluginRating]),
    PluginSalesModule,
  ],
  controllers: [PluginCatalogController],
  providers: [
    PluginCatalogService,
    PluginCatalogRepository,
    PluginVersionsService,
    PluginVersionsRepository,
    PluginSeedsService,
    PluginSigningService,
    PluginDownloadsService,
    InstallsService,
    InstallsRepository,
    ...provideBlobReferences(PluginCatalogBlobReferences),
    CatalogAccountDataRepository,
    ...provideAccountDataParticipant(PluginCatalogAccountData),
  ],
  exports: [PluginVersionsService, PluginSigningService],
})
export class PluginCatalogModule {}
