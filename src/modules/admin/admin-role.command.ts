import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { userInfo } from 'node:os';
import { AppModule } from '../../app.module.js';
import { AppException } from '../../common/errors/app.exception.js';
import { createLogger, PinoLoggerService } from '../../common/logging/logger.js';
import { type AppConfig, ConfigError, loadConfig } from '../../config/app-config.js';
import { OperatorRolesService } from './operator-roles.service.js';

/** What a command run printed and the exit code it ends with. */
export interface CommandResult {
  code: number;
  output: string;
}

/**
 * `npm run admin:grant -- EMAIL` / `npm run admin:revoke -- EMAIL`: gives or takes the admin role
 * of an existing account, audited. `env` is the environment the server runs with (the CLIs pass
 * process.env); the database it names is the one changed.
 */
export async function runAdminRoleCommand(
  action: 'grant' | 'revoke',
  args: string[],
  env: Record<string, string | undefined>,
): Promise<CommandResult> {
  const email = args.length === 1 ? args[0].trim() : '';
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) {
    return { code: 2, output: `usage: npm run admin:${action} -- EMAIL\n` };
  }
  let config: AppConfig;
  try {
    // This run only changes a role: no background blob sweep beside it.
    config = loadConfig({ ...env, BLOB_SWEEP_INTERVAL_MS: '0' });
  } catch (err) {
    if (err instanceof ConfigError) return { code: 1, output: `${err.message}\n` };
    throw err;
  }
  // An HTTP application that never listens, as blob-sweep's: some modules attach to the server.
  const app = await NestFactory.create(AppModule.forRoot(config), {
    logger: new PinoLoggerService(createLogger({ logLevel: 'warn' })),
    abortOnError: false,
  });
  try {
    await app.init();
    const role = action === 'grant' ? 'admin' : 'user';
    const done = await app.get(OperatorRolesService).setRole(email, role, operatorName());
    const what = action === 'grant' ? 'granted the admin role to' : 'revoked the admin role of';
    let output = done.changed
      ? `${what} ${done.email} (${done.userId}); written to the audit log\n`
      : `${done.email} (${done.userId}) already ${role === 'admin' ? 'has' : 'lacks'} the stored admin role; nothing changed\n`;
    if (action === 'revoke' && done.role === 'admin') {
      output += `${done.email} stays admin through ADMIN_EMAILS (ENV=dev): remove it there too\n`;
    }
    return { code: 0, output };
  } catch (err) {
    if (err instanceof AppException) return { code: 1, output: `${err.message}\n` };
    throw err;
  } finally {
    await app.close();
  }
}

/** Who ran the command, for the audit entry ("unknown" where the OS has no name for the user). */
function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** The body of each CLI: runs the command on this process's environment and exits with its code. */
export function runAdminRoleCli(action: 'grant' | 'revoke'): void {
  runAdminRoleCommand(action, process.argv.slice(2), process.env).then(
    ({ code, output }) => {
      (code === 0 ? process.stdout : process.stderr).write(output);
      process.exit(code);
    },
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
