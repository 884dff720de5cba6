import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { EmbeddedPostgres } from '../../src/database/embedded/embedded-postgres.js';

export interface TestDatabase {
  url: string;
  /** Where it came from: a fresh database on the DATABASE_URL server, or an in-memory PGlite. */
  kind: 'server' | 'embedded';
  drop(): Promise<void>;
}

/**
 * A database of its own for one test file: with DATABASE_URL set (CI), a new
 * database on that server, dropped afterwards; otherwise an in-memory PGlite
 * served on a private Unix socket, as the app's embedded default is (also
 * with `embedded: true`, for suites that need pgvector, which CI's server lacks).
 */
export async function createTestDatabase(options: { embedded?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl || options.embedded) {
    const embedded = new EmbeddedPostgres();
    const url = await embedded.start();
    return { url, kind: 'embedded', drop: () => embedded.stop() };
  }
  const name = `adiuva_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    kind: 'server',
    drop: async () => {
      const c = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
