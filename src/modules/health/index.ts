/** What the health module offers the rest of the app; nothing else of it is imported from outside. */
export * from './health.module.js';
export * from './outage.service.js';
