/** What the health module offers the rest of the app; nothing else of it is imported from outside. */
export { HealthModule } from './health.module.js';
export { OutageService } from './outage.service.js';
