/** What the usage module offers the rest of the app; nothing else of it is imported from outside. */
export * from './usage.module.js';
export * from './usage.service.js';
