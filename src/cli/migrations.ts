import 'reflect-metadata';
import {
  type MigrationCommand,
  migrationUsageError,
  runMigrationCommand,
} from '../database/migration-commands.js';
import { cliConfig, runCli } from './bootstrap.js';

/**
 * `npm run migration:run` | `migration:generate -- <Name>` | `migration:check`: see
 * runMigrationCommand. The database only, not the app: a running app applies migrations itself.
 */
runCli(async ([command, name]) => {
  const usage = migrationUsageError(command, name);
  if (usage) {
    process.stderr.write(usage);
    return 2;
  }
  return runMigrationCommand(cliConfig(), command as MigrationCommand, name);
});
