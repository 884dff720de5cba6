import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { blobKeyOwner } from '../../common/blob-store/blob-sweep.service.js';
import { AuthModule } from '../auth/index.js';
import { BillingModule } from '../billing/index.js';
import { DevelopersService } from './developers.service.js';
import { DeveloperAccount } from './entities/developer-account.entity.js';
import { PluginDuplicatePayment } from './entities/duplicate-payment.entity.js';
import { PluginPayout } from './entities/plugin-payout.entity.js';
import { PluginPurchase } from './entities/plugin-purchase.entity.js';
import { RevenueEvent } from './entities/revenue-event.entity.js';
import { CheckRunner } from './check-runner.service.js';
import { PluginInstall } from './entities/plugin-install.entity.js';
import { PluginRating } from './entities/plugin-rating.entity.js';
import { PluginVersion } from './entities/plugin-version.entity.js';
import { Plugin } from './entities/plugin.entity.js';
import { InstallsRepository } from './installs.repository.js';
import { InstallsService } from './installs.service.js';
import { MarketplaceAdminController } from './marketplace-admin.controller.js';
import { MarketplaceController } from './marketplace.controller.js';
import { MarketplaceRepository } from './marketplace.repository.js';
import { MarketplaceSeedsService } from './marketplace-seeds.service.js';
import { MarketplaceService } from './marketplace.service.js';
import { PluginDownloadsService } from './plugin-downloads.service.js';
import { PluginSigningService } from './plugin-signing.service.js';
import { PayoutsService } from './payouts.service.js';
import { PurchasesService } from './purchases.service.js';
import { SalesRepository } from './sales.repository.js';
import { ReviewService } from './review.service.js';
import { SubmissionsRepository } from './submissions.repository.js';
import { SubmissionsService } from './submissions.service.js';

/**
 * The plugin marketplace: the catalog (Power tier and up), developer
 * submissions through automated checks, the admins' review and quarantine,
 * installs with signed download links, ratings, the registry's signing
 * key, and paid plugins (purchases through Stripe, the revenue ledger,
 * developers' connected accounts and their payouts).
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([
      Plugin,
      PluginVersion,
      PluginInstall,
      PluginRating,
      PluginPurchase,
      RevenueEvent,
      DeveloperAccount,
      PluginPayout,
      PluginDuplicatePayment,
    ]),
    AuthModule,
    BillingModule,
  ],
  controllers: [MarketplaceController, MarketplaceAdminController],
  providers: [
    MarketplaceService,
    MarketplaceRepository,
    MarketplaceSeedsService,
    PluginSigningService,
    PluginDownloadsService,
    SubmissionsService,
    CheckRunner,
    SubmissionsRepository,
    ReviewService,
    InstallsService,
    InstallsRepository,
    SalesRepository,
    PurchasesService,
    DevelopersService,
    PayoutsService,
    // Packages live under `plugins/{plugin_id}/{version id or seed version}.zip`, one per version row.
    blobKeyOwner({
      kind: 'plugin_package',
      pattern: /^plugins\/[a-z0-9-]{1,64}\/[0-9A-Za-z.+-]{1,64}\.zip$/,
      references: [{ table: 'plugin_versions', column: 'blob_key' }],
    }),
  ],
})
export class MarketplaceModule {}
