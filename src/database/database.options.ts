import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { SnakeNamingStrategy } from './snake-naming.strategy.js';

/** Where compiled (dist/migrations/*.js) or source (migrations/*.ts, under ts-jest) migrations live. */
const here = dirname(fileURLToPath(import.meta.url));
export const MIGRATIONS_DIR = join(here, '..', '..', 'migrations');
const ENTITIES_GLOB = join(here, '..', '**', '*.entity.{js,ts}');

/**
 * One set of options for the app and the migration CLI, against a real server
 * (`DATABASE_URL`) or the embedded one (`url` from EmbeddedPostgres, pool of 1).
 */
export function dataSourceOptions(config: AppConfig, url: string, embedded: boolean): DataSourceOptions {
  const poolMax = embedded ? 1 : config.database.poolMax;
  return {
    type: 'postgres',
    url,
    entities: [ENTITIES_GLOB],
    migrations: [join(MIGRATIONS_DIR, '*.{js,ts}')],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    namingStrategy: new SnakeNamingStrategy(),
    logging: false,
    poolSize: poolMax,
    connectTimeoutMS: config.database.connectTimeoutMs,
    extra: {
      max: poolMax,
      // node-postgres waits forever for a connection by default; bound it.
      connectionTimeoutMillis: config.database.connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'adiuva-cloud-api',
    },
  };
}
