import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config.js';
import { EmbeddedPostgres } from './embedded-postgres.js';

/**
 * Resolves the database URL: `DATABASE_URL` when set, else an embedded
 * Postgres under `DATA_DIR/pgdata`, started on first use. On shutdown it
 * closes the data source first, then the embedded server, so the pool never
 * talks to a server that is already gone.
 */
@Injectable()
export class EmbeddedPostgresService implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private embedded?: EmbeddedPostgres;

  constructor(
    private readonly config: AppConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  get isEmbedded(): boolean {
    return !this.config.database.url;
  }

  async connectionUrl(): Promise<string> {
    if (this.config.database.url) return this.config.database.url;
    if (!this.embedded) {
      const dir = join(this.config.dataDir, 'pgdata');
      this.embedded = new EmbeddedPostgres(
        dir,
        EmbeddedPostgres.workerAvailable() ? 'worker' : 'main',
        {},
        this.config.database.embeddedSharedBuffersMb,
      );
      const started = Date.now();
      await this.embedded.start();
      this.logger.log(
        `DATABASE_URL is not set: embedded Postgres (PGlite with pgvector) started from ${dir} in ${Date.now() - started} ms`,
      );
    }
    return this.embedded.connectionUrl;
  }

  /** For the pool's `stream` option: connections over the embedded database thread's port, when it has one. */
  get connectionStream(): (() => Duplex) | undefined {
    return this.embedded?.connectionStream;
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.embedded) return;
    const dataSource = this.moduleRef.get(DataSource, { strict: false });
    if (dataSource.isInitialized) await dataSource.destroy();
    await this.embedded.stop();
    this.embedded = undefined;
  }
}
