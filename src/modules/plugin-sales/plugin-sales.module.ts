import { Module } from '@nestjs/common';
import { provideAccountDataParticipant } from '../../common/account-data/account-data.registry.js';
import { SalesAccountDataRepository } from './account-data.repository.js';
import { PluginSalesAccountData } from './plugin-sales.account-data.js';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/index.js';
import { BillingModule } from '../billing/index.js';
import { DevelopersService } from './developers.service.js';
import { DeveloperAccount } from './entities/developer-account.entity.js';
import { PluginDuplicatePayment } from './entities/duplicate-payment.entity.js';
import { PluginPayout } from './entities/plugin-payout.entity.js';
import { PluginPurchase } from './entities/plugin-purchase.entity.js';
import { RevenueEvent } from './entities/revenue-event.entity.js';
import { PayoutsService } from './payouts.service.js';
import { PluginPayoutsController } from './plugin-payouts.controller.js';
import { PluginSalesController } from './plugin-sales.controller.js';
import { PluginSalesRepository } from './plugin-sales.repository.js';
import { PurchasesService } from './purchases.service.js';

/**
 * Paid plugins: purchases through Stripe (billing routes their webhooks
 * here), the revenue ledger, developers' connected accounts and their monthly
 * payouts. The catalog asks it to buy a paid plugin on its first install and
 * which purchases no longer serve a download.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([
      PluginPurchase,
      RevenueEvent,
      DeveloperAccount,
      PluginPayout,
      PluginDuplicatePayment,
    ]),
    AuthModule,
    BillingModule,
  ],
  controllers: [PluginSalesController, PluginPayoutsController],
  providers: [
    PurchasesService,
    DevelopersService,
    PayoutsService,
    PluginSalesRepository,
    SalesAccountDataRepository,
    ...provideAccountDataParticipant(PluginSalesAccountData),
  ],
  exports: [PurchasesService],
})
export class PluginSalesModule {}
