import type { DataSource } from 'typeorm';

/** Arbitrary, fixed key: every instance migrating the same database takes the same advisory lock. */
const MIGRATION_LOCK_KEY = 727_401_001;

export interface DatabaseSetupResult {
  vector: boolean;
  vectorReason?: string;
  migrationsApplied: string[];
}

/**
 * Enables pgvector where the server has it, then applies pending migrations.
 * Against a shared server the work runs under an advisory lock so instances
 * starting together do not migrate twice. (The embedded server belongs to one
 * process and has a single connection, so it needs no lock.)
 */
export async function setUpDatabase(
  dataSource: DataSource,
  opts: { lock: boolean },
): Promise<DatabaseSetupResult> {
  const runner = opts.lock ? dataSource.createQueryRunner() : undefined;
  try {
    if (runner) {
      await runner.connect();
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    }
    const vector = await enableVector(dataSource);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return { ...vector, migrationsApplied: applied.map((m) => m.name) };
  } finally {
    if (runner) {
      try {
        await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      } finally {
        await runner.release();
      }
    }
  }
}

async function enableVector(dataSource: DataSource): Promise<{ vector: boolean; vectorReason?: string }> {
  const installed: unknown[] = await dataSource.query(`SELECT 1 FROM pg_extension WHERE extname = 'vector'`);
  if (installed.length > 0) return { vector: true };
  const available: unknown[] = await dataSource.query(
    `SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`,
  );
  if (available.length === 0) {
    return {
      vector: false,
      vectorReason: 'the pgvector extension is not installed on this PostgreSQL server',
    };
  }
  try {
    await dataSource.query('CREATE EXTENSION IF NOT EXISTS vector');
    return { vector: true };
  } catch (err) {
    return {
      vector: false,
      vectorReason: `CREATE EXTENSION vector failed (${(err as Error).message}); a superuser can run it once`,
    };
  }
}
