/** What the billing module offers the rest of the app; nothing else of it is imported from outside. */
export { BillingModule } from './billing.module.js';
