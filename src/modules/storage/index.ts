/** What the storage module offers the rest of the app; nothing else of it is imported from outside. */
export { StorageQuotaService, type UsageChange } from './storage-quota.service.js';
export type { UsageLock } from './storage-quota.js';
export * from './storage.events.js';
export * from './storage.module.js';
export { StorageService } from './storage.service.js';
