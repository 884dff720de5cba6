import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideAccountDataParticipant } from '../../common/account-data/account-data.registry.js';
import { AuthModule } from '../auth/index.js';
import { BillingAccountDataRepository } from './account-data.repository.js';
import { BillingAccountData } from './billing.account-data.js';
import { BillingWebhookService } from './billing-webhook.service.js';
import { BillingRepository } from './billing.repository.js';
import { BillingController } from './billing.controller.js';
import { BillingService } from './billing.service.js';
import { StripeEvent } from './entities/stripe-event.entity.js';
import { Subscription } from './entities/subscription.entity.js';
import { PaymentsGateway, StripePaymentsGateway } from './payments.gateway.js';
import { StripeEventHandlers } from './stripe-event-handlers.js';
import { TeamSeatsService } from './team-seats.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Subscription, StripeEvent]), AuthModule],
  controllers: [BillingController],
  providers: [
    BillingRepository,
    BillingService,
    BillingWebhookService,
    StripeEventHandlers,
    TeamSeatsService,
    BillingAccountDataRepository,
    ...provideAccountDataParticipant(BillingAccountData),
    { provide: PaymentsGateway, useClass: StripePaymentsGateway },
  ],
  // For modules that sell through Stripe (the marketplace): the provider, and a share of the webhook;
  // for teams, the seats of Team subscriptions.
  exports: [PaymentsGateway, StripeEventHandlers, TeamSeatsService],
})
export class BillingModule {}
