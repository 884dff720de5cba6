import 'reflect-metadata';
import { runCli } from './bootstrap.js';
import { adminRoleCli } from './admin-role.js';

/** `npm run admin:revoke -- EMAIL`: takes the admin role from an account (audited). */
runCli(adminRoleCli('revoke'));
