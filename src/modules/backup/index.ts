/** What the backup module offers the rest of the app; nothing else of it is imported from outside. */
export * from './backup.module.js';
