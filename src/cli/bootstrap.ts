import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module.js';
import { createLogger, PinoLoggerService } from '../common/logging/logger.js';
import { type AppConfig, ConfigError, loadConfig, loadConfigWith, loadDotEnv } from '../config/app-config.js';

/**
 * What every command line (`npm run migration:*`, `storage:purge`, `blobs:sweep`, `usage:verify`,
 * `admin:grant` / `admin:revoke`, `openapi:*`) shares: the environment (with .env), the app built
 * from AppModule, and the exit code. The commands themselves are the modules' services; a file
 * here only reads its arguments, calls one, and prints what came of it.
 *
 * Exit codes: 0 done, 1 failed (or found a problem), 2 bad command line.
 */

/** A command's body: its arguments in, its exit code out. */
export type Command = (args: string[]) => Promise<number>;

/**
 * Runs `command` with this process's arguments (after .env is loaded) and exits with its code; a
 * configuration error prints its message, anything else its stack, and both exit 1.
 */
export function runCli(command: Command): void {
  loadDotEnv();
  command(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
      else process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}

/**
 * The configuration a one-shot command runs with: `env` (the server's environment; the database
 * it names is the one changed), with no background blob sweep beside the command.
 */
export function cliConfig(
  env?: Record<string, string | undefined>,
  overrides: Record<string, string> = {},
): AppConfig {
  const own = { BLOB_SWEEP_INTERVAL_MS: '0', ...overrides };
  // Without `env`, the process's environment, read where the config is read (src/config).
  return env ? loadConfig({ ...env, ...own }) : loadConfigWith(own);
}

/**
 * Runs `use` against the whole app, then closes it. The app is an HTTP application that never
 * listens, not a bare application context: some modules (the chat WebSocket) attach to the HTTP
 * server at bootstrap and fail without one. Only warnings and errors are logged.
 */
export async function withApp<T>(
  config: AppConfig,
  use: (app: INestApplicationContext) => Promise<T>,
): Promise<T> {
  const app = await NestFactory.create(AppModule.forRoot(config), {
    logger: new PinoLoggerService(createLogger({ logLevel: 'warn' })),
    abortOnError: false,
  });
  try {
    await app.init();
    return await use(app);
  } finally {
    await app.close();
  }
}

/** Writes one line to standard output. */
export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}
