/** What the billing module offers the rest of the app; nothing else of it is imported from outside. */
export { BillingModule } from './billing.module.js';
export {
  BILLING_NOT_CONFIGURED,
  PaymentProviderError,
  PaymentsGateway,
  type OffSessionCharge,
  type TransferFound,
  type WebhookSource,
  type VerifiedEvent,
} from './payments.gateway.js';
export {
  StripeEventHandlers,
  type StripeEventHandler,
  type StripeEventOutcome,
} from './stripe-event-handlers.js';
export { TeamSeatsService, type TeamSeats } from './team-seats.service.js';
