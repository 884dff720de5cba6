import { PGlite } from '@electric-sql/pglite';
import { MessageChannel } from 'node:worker_threads';
import { Pool } from 'pg';
import { PgliteWireServer } from '../src/database/embedded/pglite-wire-server.js';
import { PortLink } from '../src/database/embedded/port-link.js';

/**
 * The app's connections to the embedded database's thread: the real `pg`
 * driver over a PortLink to the real wire server. Both ends run on this
 * thread here (a MessageChannel between them, as between the app and the
 * database's worker thread); the built server uses it across threads, which
 * server-process and every benchmark exercise.
 */
describe('database connections over a PortLink', () => {
  let db: PGlite;
  let server: PgliteWireServer;
  let serverLink: PortLink;
  let clientLink: PortLink;
  let pool: Pool;
  let served = 0;

  beforeAll(async () => {
    db = await PGlite.create();
    server = new PgliteWireServer(db, 64);
    await server.start();
    const { port1, port2 } = new MessageChannel();
    clientLink = new PortLink(port1);
    serverLink = new PortLink(port2, (socket) => {
      served++;
      server.serve(socket);
    });
    pool = new Pool({ stream: () => clientLink.socket(), max: 8, user: 'postgres', database: 'postgres' });
    await pool.query('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)');
  });

  afterAll(async () => {
    await pool.end();
    clientLink.close();
    serverLink.close();
    await server.stop();
    await db.close();
  });

  it('answers many queries at once on several connections, each with its own result', async () => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        pool.query<{ n: number; s: string }>('SELECT $1::int AS n, $2::text AS s', [i, `q${i}`]),
      ),
    );
    answers.forEach((res, i) => expect(res.rows).toEqual([{ n: i, s: `q${i}` }]));
    expect(served).toBeGreaterThan(1);
    expect(served).toBeLessThanOrEqual(8);
  });

  it('carries results larger than one message chunk intact', async () => {
    const res = await pool.query<{ big: string }>("SELECT repeat('abcdefgh', 200000) AS big");
    expect(res.rows[0].big.length).toBe(1_600_000);
    expect(res.rows[0].big.slice(0, 16)).toBe('abcdefghabcdefgh');
  });

  it('keeps a transaction to its connection: others do not see it until commit, and a rollback leaves nothing', async () => {
    const a = await pool.connect();
    try {
      await a.query('BEGIN');
      await a.query("INSERT INTO items VALUES (1, 'kept')");
      const outside = pool.query<{ count: string }>('SELECT count(*) FROM items');
      await a.query('COMMIT');
      expect((await outside).rows[0].count).toBe('1');

      await a.query('BEGIN');
      await a.query("INSERT INTO items VALUES (2, 'dropped')");
      await a.query('ROLLBACK');
    } finally {
      a.release();
    }
    const { rows } = await pool.query<{ name: string }>('SELECT name FROM items ORDER BY id');
    expect(rows).toEqual([{ name: 'kept' }]);
  });

  it('reports a server error on its query and keeps the connection usable', async () => {
    await expect(pool.query('SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table/);
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('rolls back what a connection left open when it ends', async () => {
    const client = await pool.connect();
    await client.query('BEGIN');
    await client.query("INSERT INTO items VALUES (3, 'left open')");
    client.release(true); // ends this connection, as a client that goes away does
    const { rows } = await pool.query<{ count: string }>('SELECT count(*) FROM items WHERE id = 3');
    expect(rows[0].count).toBe('0');
  });

  it('fails the queries in flight, rather than leaving them waiting, when the database side goes away', async () => {
    const { port1, port2 } = new MessageChannel();
    const link = new PortLink(port1);
    const far = new PortLink(port2, (socket) => server.serve(socket));
    const lonely = new Pool({ stream: () => link.socket(), max: 1, user: 'postgres', database: 'postgres' });
    lonely.on('error', () => undefined);
    try {
      expect((await lonely.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      const inFlight = lonely.query('SELECT pg_sleep(0.2)');
      far.close();
      await expect(inFlight).rejects.toThrow(/terminated|closed|stopped/i);
      await expect(lonely.query('SELECT 1')).rejects.toThrow();
    } finally {
      await lonely.end().catch(() => undefined);
      link.close();
    }
  });
});
