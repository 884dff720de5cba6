/** What the audit module offers the rest of the app; nothing else of it is imported from outside. */
export { AuditModule } from './audit.module.js';
export { AuditService, type AuditEvent } from './audit.service.js';
