import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import type { AppConfig } from '../config/app-config.js';
import { SnakeNamingStrategy } from './snake-naming.strategy.js';

const here = dirname(fileURLToPath(import.meta.url));
/** For the migration CLI (plain Node); the app registers entities through TypeOrmModule.forFeature. */
const ENTITIES_GLOB = join(here, '..', '**', '*.entity.{js,ts}');

/**
 * Connections to the embedded database. Its one backend runs one query at a
 * time whatever the number, but with several, the next requests' queries are
 * already waiting on its thread when one ends (and go there together, see
 * PortLink), instead of each being sent only once the previous answer is
 * read: measured with bench:http, /auth/me served 3,400-3,900 requests a
 * second with 4, 4,900-5,200 with 10 and 5,300-5,500 with 20; 40 gained nothing more.
 */
export const EMBEDDED_POOL_SIZE = 16;

/**
 * One set of options for the app and the migration CLI, against a real server
 * (`DATABASE_URL`) or the embedded one (`url` from EmbeddedPostgres, and
 * `stream` when its connections go over the database thread's port).
 */
export function dataSourceOptions(
  config: AppConfig,
  url: string,
  embedded: boolean,
  stream?: () => Duplex,
): DataSourceOptions {
  const poolMax = embedded ? EMBEDDED_POOL_SIZE : config.database.poolMax;
  return {
    type: 'postgres',
    url,
    entities: [ENTITIES_GLOB],
    migrations: MIGRATIONS,
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
      ...(stream ? { stream } : {}),
    },
  };
}
