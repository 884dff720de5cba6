import 'reflect-metadata';
import { runCli } from './bootstrap.js';
import { adminRoleCli } from './admin-role.js';

/** `npm run admin:grant -- EMAIL`: gives an existing account the admin role (audited). */
runCli(adminRoleCli('grant'));
