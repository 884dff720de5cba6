import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { dataSourceOptions } from './database.options.js';
import { setUpDatabase } from './database.setup.js';
import { EmbeddedPostgres } from './embedded/embedded-postgres.js';

export type MigrationCommand = 'run' | 'generate' | 'check';

/**
 * The migration commands (`npm run migration:*`, src/cli/migrations.ts) against the configured
 * database (DATABASE_URL, or the embedded one under DATA_DIR, which must not be in use by a
 * running server); returns the exit code:
 *
 *   run                 apply pending migrations
 *   generate <Name>     write migrations/<timestamp>-<Name>.ts from the entity/schema difference
 *   check               exit 1 when the entities and the migrated schema differ (CI drift check)
 */
export async function runMigrationCommand(
  config: AppConfig,
  command: MigrationCommand,
  name = '',
): Promise<number> {
  const embedded = config.database.url
    ? undefined
    : new EmbeddedPostgres(
        join(config.dataDir, 'pgdata'),
        'main',
        {},
        config.database.embeddedSharedBuffersMb,
      );
  const url = config.database.url ?? (await embedded!.start());
  const dataSource = new DataSource(dataSourceOptions(config, url, !!embedded));
  try {
    await dataSource.initialize();
    const setup = await setUpDatabase(dataSource, { lock: !embedded && config.database.poolMax > 1 });
    log(
      setup.migrationsApplied.length
        ? `applied: ${setup.migrationsApplied.join(', ')}`
        : 'no pending migrations',
    );
    if (!setup.vector) log(`note: pgvector is not available (${setup.vectorReason})`);
    if (command === 'run') return 0;
    const sql = await dataSource.driver.createSchemaBuilder().log();
    return command === 'check' ? check(sql) : generate(sql, name);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}

/** The usage text for a bad command line, or undefined when it is fine. */
export function migrationUsageError(
  command: string | undefined,
  name: string | undefined,
): string | undefined {
  if (!command || !['run', 'generate', 'check'].includes(command))
    return 'usage: npm run migration:run | migration:generate -- <Name> | migration:check\n';
  if (command === 'generate' && !/^[A-Za-z][A-Za-z0-9]*$/.test(name ?? '')) {
    return 'generate needs a migration name in PascalCase, e.g. `npm run migration:generate -- AddUsers`\n';
  }
  return undefined;
}

type SchemaDiff = Awaited<ReturnType<ReturnType<DataSource['driver']['createSchemaBuilder']>['log']>>;

function check(sql: SchemaDiff): number {
  if (sql.upQueries.length === 0) {
    log('schema matches the entities: no migration needed');
    return 0;
  }
  log('the entities differ from the migrated schema; a migration is missing:');
  for (const query of sql.upQueries) log(`  ${query.query}`);
  return 1;
}

function generate(sql: SchemaDiff, name: string): number {
  if (sql.upQueries.length === 0) {
    log('no changes: nothing to generate');
    return 0;
  }
  const timestamp = Date.now();
  // Generated as TypeScript source in the repository (run from its root), not into dist/.
  const dir = join(process.cwd(), 'migrations');
  const file = join(dir, `${timestamp}-${name}.ts`);
  const up = sql.upQueries.map((query) => queryLine(query.query, query.parameters));
  const down = sql.downQueries.reverse().map((query) => queryLine(query.query, query.parameters));
  if (!existsSync(dir)) mkdirSync(dir);
  writeFileSync(file, migrationSource(`${name}${timestamp}`, up, down));
  registerMigration(join(dir, 'index.ts'), `${name}${timestamp}`, `./${timestamp}-${name}.js`);
  log(`wrote ${relative(process.cwd(), file)} and listed it in migrations/index.ts (run \`npm run format\`)`);
  return 0;
}

/** Appends the new migration to the static list in migrations/index.ts. */
function registerMigration(indexFile: string, className: string, importPath: string): void {
  const source = readFileSync(indexFile, 'utf8');
  const withImport = source.replace(
    /(\nimport [^\n]+;\n)(?![\s\S]*\nimport )/,
    `$1import { ${className} } from '${importPath}';\n`,
  );
  const withEntry = withImport.replace(/= \[([\s\S]*?)\];/, (_m, list: string) => {
    const items = list.trim().replace(/,$/, '');
    return `= [${items ? `${items}, ` : ''}${className}];`;
  });
  writeFileSync(indexFile, withEntry);
}

function queryLine(query: string, parameters?: unknown[]): string {
  const params = parameters?.length ? `, ${JSON.stringify(parameters)}` : '';
  return `    await queryRunner.query(\`${query.replace(/`/g, '\\`')}\`${params});`;
}

function migrationSource(className: string, up: string[], down: string[]): string {
  return `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  public async up(queryRunner: QueryRunner): Promise<void> {
${up.join('\n')}
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
${down.join('\n')}
  }
}
`;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}
