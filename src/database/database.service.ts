import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { setUpDatabase } from './database.setup.js';
import { EmbeddedPostgresService } from './embedded-postgres.service.js';

/** Schema and capabilities of the connected database, and its liveness for readiness checks. */
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
}
