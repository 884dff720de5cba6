import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPostgres } from '../src/database/embedded/embedded-postgres.js';
import { spawnServer, waitFor200 } from './support/server-process.js';

/**
 * The built server as an operator runs it: `node dist/src/main.js` on the
 * embedded defaults (no Postgres, S3, Redis, Stripe or LLM), stopped with SIGTERM.
 */
describe('server process on embedded defaults', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'adiuva-proc-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts with nothing else running, serves health and docs, and drains in-flight requests on SIGTERM', async () => {
    const server = await spawnServer({ DATA_DIR: dataDir, SHUTDOWN_DELAY_MS: '1500' });
    try {
      const startupMs = await waitFor200(`${server.url}/api/v1/health`, 60_000, server);
      process.stdout.write(`server ready in ${startupMs} ms\n`);

      const docs = await fetch(`${server.url}/docs`);
      expect(docs.status).toBe(200);
      const spec = (await (await fetch(`${server.url}/docs-json`)).json()) as {
        components: { schemas: Record<string, unknown> };
      };
      expect(Object.keys(spec.components.schemas)).toEqual(
        expect.arrayContaining(['HealthDto', 'ErrorResponseDto']),
      );
      expect((await fetch(`${server.url}/api/v1/health/ready`)).status).toBe(200);

      // A request whose body is still arriving when SIGTERM comes (sign-in reads its body before answering).
      const body = '{"email":"drain@example.com","password":"not the password"}';
      const cut = body.indexOf('"password"');
      const sock = connect(server.port, '127.0.0.1');
      let response = '';
      sock.on('data', (d: Buffer) => (response += d.toString()));
      const closed = new Promise<void>((r) => sock.once('close', () => r()));
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write(
        'POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, cut)}`,
      );
      await new Promise((r) => setTimeout(r, 200));

      server.proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      // During the drain delay the listener is still open and readiness says 503.
      const ready = await fetch(`${server.url}/api/v1/health/ready`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { message: string }).message).toBe(
        'Not ready: the server is shutting down',
      );

      await new Promise((r) => setTimeout(r, 1500));
      // The listener is closed now: new connections are refused...
      await expect(fetch(`${server.url}/api/v1/health`)).rejects.toThrow();
      // ...but the in-flight request still gets its answer.
      expect(server.proc.exitCode).toBeNull();
      sock.write(body.slice(cut));
      await closed;
      expect(response).toMatch(/^HTTP\/1\.1 401 /);
      expect(response).toContain('"code":"invalid_credentials"');

      expect(await server.exited).toBe(0);
      expect(server.stdout()).toContain('Shutdown complete');
    } finally {
      server.proc.kill('SIGKILL');
    }
  });

  it('keeps its data across a restart on the same DATA_DIR, and refuses a second owner of it', async () => {
    const pgdata = join(dataDir, 'pgdata');
    const secret = readFileSync(join(dataDir, 'jwt-secret'), 'utf8');

    const offline = new EmbeddedPostgres(pgdata);
    const url = await offline.start();
    const { Client } = await import('pg');
    const c = new Client({ connectionString: url });
    await c.connect();
    await c.query('CREATE TABLE persist_probe (v text)');
    await c.query(`INSERT INTO persist_probe VALUES ('kept')`);
    await c.end();
    await offline.stop();

    const server = await spawnServer({ DATA_DIR: dataDir });
    try {
      await waitFor200(`${server.url}/api/v1/health/ready`, 60_000, server);
      await expect(new EmbeddedPostgres(pgdata).start()).rejects.toThrow(/in use by process \d+/);
      server.proc.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.proc.kill('SIGKILL');
    }

    const again = new EmbeddedPostgres(pgdata);
    const c2 = new Client({ connectionString: await again.start() });
    await c2.connect();
    const rows = await c2.query<{ v: string }>('SELECT v FROM persist_probe');
    const migrations = await c2.query(`SELECT to_regclass('public.migrations') AS t`);
    await c2.end();
    await again.stop();
    expect(rows.rows).toEqual([{ v: 'kept' }]);
    expect(migrations.rows[0].t).toBe('migrations');
    expect(readFileSync(join(dataDir, 'jwt-secret'), 'utf8')).toBe(secret);
  });
});

describe('server process with a bad configuration', () => {
  it('refuses to start with one message naming every bad variable, without echoing values', async () => {
    const server = await spawnServer({
      PORT: 'abc',
      LOG_LEVEL: 'loud',
      ENV: 'prod',
      CORS_ORIGINS: 'http://localhost:5173',
      DATABASE_URL: 'mysql://nope',
      DATA_DIR: tmpdir(),
    });
    expect(await server.exited).toBe(1);
    const lines = server.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: /);
    for (const name of ['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'JWT_SECRET']) expect(lines[0]).toContain(name);
    expect(lines[0]).not.toContain('mysql://nope');
  });

  it('refuses ENV=prod without JWT_SECRET or PUBLIC_URL and rejects a short secret without printing it', async () => {
    const missing = await spawnServer({ ENV: 'prod', DATA_DIR: tmpdir() });
    expect(await missing.exited).toBe(1);
    expect(missing.stderr()).toContain('JWT_SECRET is required when ENV=prod');
    expect(missing.stderr()).toContain('PUBLIC_URL is required when ENV=prod');

    const short = await spawnServer({ ENV: 'prod', JWT_SECRET: 'short-secret-value', DATA_DIR: tmpdir() });
    expect(await short.exited).toBe(1);
    expect(short.stderr()).toContain('JWT_SECRET must be at least 32 characters');
    expect(short.stderr()).not.toContain('short-secret-value');
  });
});
