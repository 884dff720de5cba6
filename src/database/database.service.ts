import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { setUpDatabase } from './database.setup.js';
import { EmbeddedPostgresService } from './embedded/embedded-postgres.service.js';

/**
 * A number per pool connection, for the names of the statements prepared on
 * it: the embedded database serves every connection from one backend, where a
 * name another (or an earlier) connection prepared must not collide.
 */
const connectionNumbers = new WeakMap<PoolClient, number>();
let connectionsSeen = 0;

function connectionNumber(client: PoolClient): number {
  let number = connectionNumbers.get(client);
  if (number === undefined) {
    number = ++connectionsSeen;
    connectionNumbers.set(client, number);
  }
  return number;
}

/**
 * Schema and capabilities of the connected database, its liveness for
 * readiness checks, and the driver's pool for the few callers that go below
 * TypeORM (without knowing whether the database is embedded).
 */
@Injectable()
export class DatabaseService implements OnModuleInit {
  private readonly logger = new Logger('Database');
  private vector = false;
  private vectorReason?: string;

  constructor(
    private readonly ds: DataSource,
    private readonly embedded: EmbeddedPostgresService,
    private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    // The migration lock needs a second connection; the embedded server has one owner anyway.
    const lock = !this.embedded.isEmbedded && this.config.database.poolMax > 1;
    const result = await setUpDatabase(this.ds, { lock });
    this.vector = result.vector;
    this.vectorReason = result.vectorReason;
    if (result.migrationsApplied.length > 0) {
      this.logger.log(`Applied migrations: ${result.migrationsApplied.join(', ')}`);
    }
    if (this.vector) {
      this.logger.log('pgvector is enabled');
    } else {
      this.logger.warn(
        `pgvector is NOT available: ${this.vectorReason}. The vector endpoints will answer 503; everything else works.`,
      );
    }
  }

  /** Whether the `vector` extension is usable; with the reason when it is not. */
  get vectorSupport(): { available: boolean; reason?: string } {
    return { available: this.vector, reason: this.vectorReason };
  }

  /** Resolves when the database answers `SELECT 1` (the caller bounds the wait). */
  async ping(): Promise<void> {
    await this.ds.query('SELECT 1');
  }

  /**
   * Runs one statement as a named prepared statement on a connection of the
   * driver's pool itself (a TypeORM query runner adds its bookkeeping to every
   * call): for the queries of every request, where planning anew each time
   * costs more than running them. The data is read fresh every time; only the
   * plan is kept, per connection.
   */
  async preparedQuery<T extends QueryResultRow>(name: string, text: string, values: unknown[]): Promise<T[]> {
    const pool = this.pool();
    if (!pool) throw new Error('The database is not connected');
    const client = await pool.connect();
    // A checked-out client has no listener for its connection dying (the pool's is off while it is
    // out), and an unheard 'error' event would end the process: the query's rejection reports it.
    const ignore = () => undefined;
    client.on('error', ignore);
    let failure: Error | undefined;
    try {
      const statement = `${name}_${connectionNumber(client)}`;
      return (await client.query<T>({ name: statement, text, values })).rows;
    } catch (err) {
      failure = err as Error;
      throw err;
    } finally {
      client.removeListener('error', ignore);
      // Released with the error, a broken connection is discarded rather than handed out again.
      client.release(failure);
    }
  }

  /** The `pg` pool under the data source (for its metrics), once it is connected. */
  pool(): Pool | undefined {
    return (this.ds.driver as unknown as { master?: Pool }).master;
  }
}
