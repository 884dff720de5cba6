import request from 'supertest';
import { DataSource } from 'typeorm';
import { DatabaseService } from '../src/database/database.service.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { withServer } from './support/conditions.js';
import { createTestDatabase } from './support/test-database.js';

describe('database', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('has run the migrations at start (migrations table present, none pending)', async () => {
    const ds = t.app.get(DataSource);
    const [{ exists }] = await ds.query<Array<{ exists: string | null }>>(
      `SELECT to_regclass('public.migrations') AS exists`,
    );
    expect(exists).toBe('migrations');
    expect(await ds.showMigrations()).toBe(false);
  });

  it('enables pgvector where the server has it, and says so clearly where it does not', async () => {
    const ds = t.app.get(DataSource);
    const available = (
      await ds.query<unknown[]>(`SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`)
    ).length;
    const support = t.app.get(DatabaseService).vectorSupport;
    expect(support.available).toBe(available > 0);
    if (available) {
      expect(await ds.query(`SELECT extname FROM pg_extension WHERE extname = 'vector'`)).toHaveLength(1);
      expect(t.logs.text).toContain('pgvector is enabled');
    } else {
      // Debian's PostgreSQL in CI has no pgvector package.
      expect(t.logs.text).toContain('pgvector is NOT available');
      expect(t.logs.text).toContain('The vector endpoints will answer 503');
    }
    process.stdout.write(`database kind: ${t.db.kind}, pgvector: ${support.available}\n`);
  });

  it('bounds the pool and the connection wait', () => {
    const ds = t.app.get(DataSource);
    const extra = (ds.options as { extra?: { max?: number; connectionTimeoutMillis?: number } }).extra;
    expect(extra?.connectionTimeoutMillis).toBe(t.config.database.connectTimeoutMs);
    expect(extra?.max).toBe(t.config.database.poolMax);
  });
});

withServer('instances starting together on a fresh database', () => {
  it('migrate once under the advisory lock and all start', async () => {
    const db = await createTestDatabase();
    try {
      const apps = await Promise.all([startTestApp({ db }), startTestApp({ db }), startTestApp({ db })]);
      try {
        const ds = apps[0].app.get(DataSource);
        const rows = await ds.query<Array<{ name: string; n: number }>>(
          'SELECT name, count(*)::int AS n FROM migrations GROUP BY name',
        );
        expect(rows.length).toBe(ds.migrations.length);
        expect(rows.every((r) => r.n === 1)).toBe(true);
        for (const a of apps) await request(a.url).get('/api/v1/health/ready').expect(200);
      } finally {
        for (const a of apps) await a.close();
      }
    } finally {
      await db.drop();
    }
  });
});
