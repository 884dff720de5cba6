/** What the usage module offers the rest of the app; nothing else of it is imported from outside. */
export { UsageModule } from './usage.module.js';
export { utcDay } from './pricing.js';
export { UsageService } from './usage.service.js';
