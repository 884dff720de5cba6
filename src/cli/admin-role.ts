import { userInfo } from 'node:os';
import { AppException } from '../common/errors/app.exception.js';
import { type AppConfig, ConfigError } from '../config/app-config.js';
import { OperatorRolesService } from '../modules/admin/index.js';
import { cliConfig, type Command, withApp } from './bootstrap.js';

/** What a command run printed and the exit code it ends with. */
export interface CommandResult {
  code: number;
  output: string;
}

/**
 * `npm run admin:grant -- EMAIL` / `npm run admin:revoke -- EMAIL`: gives or takes the admin role
 * of an existing account, audited. `env` is the environment the server runs with (the CLIs give
 * none: the process's own); the database it names is the one changed.
 */
export async function runAdminRoleCommand(
  action: 'grant' | 'revoke',
  args: string[],
  env?: Record<string, string | undefined>,
): Promise<CommandResult> {
  const email = args.length === 1 ? args[0].trim() : '';
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) {
    return { code: 2, output: `usage: npm run admin:${action} -- EMAIL\n` };
  }
  let config: AppConfig;
  try {
    config = cliConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return { code: 1, output: `${err.message}\n` };
    throw err;
  }
  return withApp(config, async (app) => {
    try {
      const role = action === 'grant' ? 'admin' : 'user';
      const done = await app.get(OperatorRolesService).setRole(email, role, operatorName());
      return { code: 0, output: report(action, done) };
    } catch (err) {
      if (err instanceof AppException) return { code: 1, output: `${err.message}\n` };
      throw err;
    }
  });
}

type RoleChange = Awaited<ReturnType<OperatorRolesService['setRole']>>;

/** What the operator reads after a run. */
function report(action: 'grant' | 'revoke', done: RoleChange): string {
  const what = action === 'grant' ? 'granted the admin role to' : 'revoked the admin role of';
  const wanted = action === 'grant' ? 'has' : 'lacks';
  let output = done.changed
    ? `${what} ${done.email} (${done.userId}); written to the audit log\n`
    : `${done.email} (${done.userId}) already ${wanted} the stored admin role; nothing changed\n`;
  if (action === 'revoke' && done.role === 'admin') {
    output += `${done.email} stays admin through ADMIN_EMAILS (ENV=dev): remove it there too\n`;
  }
  return output;
}

/** Who ran the command, for the audit entry ("unknown" where the OS has no name for the user). */
function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** The body of each CLI: the command on this process's environment, its output on stdout or stderr. */
export function adminRoleCli(action: 'grant' | 'revoke'): Command {
  return async (args) => {
    const { code, output } = await runAdminRoleCommand(action, args);
    (code === 0 ? process.stdout : process.stderr).write(output);
    return code;
  };
}
