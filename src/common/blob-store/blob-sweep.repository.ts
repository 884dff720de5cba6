import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config.js';

/** Fixed key of the session advisory lock that lets one instance sweep at a time. */
const SWEEP_LOCK_KEY = 727_401_021;

/**
 * The sweep's lock, and nothing else: which keys are referenced, each module
 * that writes blobs answers from its own tables (BlobReferences).
 */
@Injectable()
export class BlobSweepRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  /**
   * Runs `work` holding the sweep lock; null when another instance holds it.
   * Against a server (a pool of more than one connection) the lock is a
   * session advisory lock on a connection of its own, held for the sweep
   * while the modules answer on the pool's other connections; the embedded
   * database has one connection and one owning process, so the in-process
   * guard is the whole lock there.
   */
  async locked<T>(work: () => Promise<T>): Promise<T | null> {
    if (this.config.database.poolMax <= 1 || !this.config.database.url) return work();
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [
        SWEEP_LOCK_KEY,
      ])) as Array<{ locked: boolean }>;
      if (!locked) return null;
      try {
        return await work();
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [SWEEP_LOCK_KEY]);
      }
    } finally {
      await runner.release();
    }
  }
}
