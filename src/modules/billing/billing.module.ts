import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BillingWebhookService } from './billing-webhook.service.js';
import { BillingController } from './billing.controller.js';
import { BillingService } from './billing.service.js';
import { StripeEvent } from './entities/stripe-event.entity.js';
import { Subscription } from './entities/subscription.entity.js';
import { PaymentsGateway, StripePaymentsGateway } from './payments.gateway.js';

/** Route whose body must reach the controller as raw bytes (Stripe signs them). */
export const STRIPE_WEBHOOK_PATH = '/api/v1/billing/webhook';

@Module({
  imports: [TypeOrmModule.forFeature([Subscription, StripeEvent])],
  controllers: [BillingController],
  providers: [
    BillingService,
    BillingWebhookService,
    { provide: PaymentsGateway, useClass: StripePaymentsGateway },
  ],
})
export class BillingModule {}
