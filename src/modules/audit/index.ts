/** What the audit module offers the rest of the app; nothing else of it is imported from outside. */
export * from './audit.module.js';
export * from './audit.service.js';
