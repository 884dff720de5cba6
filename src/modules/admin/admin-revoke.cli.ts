import { loadDotEnv } from '../../config/app-config.js';
import { runAdminRoleCli } from './admin-role.command.js';

/** `npm run admin:revoke -- EMAIL`: takes the admin role from an account (audited). */
loadDotEnv();
runAdminRoleCli('revoke');
