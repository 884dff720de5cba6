import { loadDotEnv } from '../../config/app-config.js';
import { runAdminRoleCli } from './admin-role.command.js';

/** `npm run admin:grant -- EMAIL`: gives an existing account the admin role (audited). */
loadDotEnv();
runAdminRoleCli('grant');
