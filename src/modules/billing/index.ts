/** What the billing module offers the rest of the app; nothing else of it is imported from outside. */
export { BillingModule } from './billing.module.js';
export {
  BILLING_NOT_CONFIGURED,
  PaymentProviderError,
  PaymentsGateway,
  type OffSessionCharge,
  type VerifiedEvent,
} from './payments.gateway.js';
export { StripeEventHandlers, type StripeEventHandler } from './stripe-event-handlers.js';
