/** What the admin module offers the rest of the app; nothing else of it is imported from outside. */
export { AdminModule } from './admin.module.js';
export { OperatorRolesService } from './operator-roles.service.js';
