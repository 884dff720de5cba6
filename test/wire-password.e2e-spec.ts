import { connect, type Socket } from 'node:net';
import { Client } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { EmbeddedPostgres } from '../src/database/embedded/embedded-postgres.js';
import { startTestApp } from './support/test-app.js';

/**
 * The embedded database where it falls back to loopback TCP (Windows, or a
 * socket path too long): any local user can reach that port, so each client
 * must prove the password made at this start before a byte reaches the
 * database. Forced onto TCP here, as on those systems.
 */
describe('embedded database on loopback TCP', () => {
  let pg: EmbeddedPostgres;
  let url: URL;

  beforeAll(async () => {
    pg = new EmbeddedPostgres(undefined, 'main', { tcp: true });
    url = new URL(await pg.start());
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    try {
      await client.query(`CREATE TABLE signing_keys (name text PRIMARY KEY, secret text NOT NULL)`);
      await client.query(`INSERT INTO signing_keys VALUES ('plugin_download_key', 'top secret')`);
    } finally {
      await client.end();
    }
  });
  afterAll(() => pg?.stop());

  /** `pg` with the URL's host and port and the given password. */
  async function connectWith(password: string | undefined): Promise<Client> {
    const client = new Client({
      host: url.hostname,
      port: Number(url.port),
      user: 'postgres',
      database: 'postgres',
      password,
    });
    await client.connect();
    return client;
  }

  it('gives a connection URL on 127.0.0.1 carrying a long random password, which the driver uses', async () => {
    expect(url.hostname).toBe('127.0.0.1');
    expect(decodeURIComponent(url.password).length).toBeGreaterThanOrEqual(32);
    const client = await connectWith(decodeURIComponent(url.password));
    try {
      const { rows } = await client.query<{ secret: string }>('SELECT secret FROM signing_keys');
      expect(rows).toEqual([{ secret: 'top secret' }]);
    } finally {
      await client.end();
    }
  });

  it('refuses a wrong password with 28P01, and a client without one never gets in', async () => {
    await expect(connectWith('postgres')).rejects.toMatchObject({
      code: '28P01',
      message: 'password authentication failed for user "postgres"',
    });
    await expect(connectWith(undefined)).rejects.toThrow(/password/);
    await expect(connectWith(decodeURIComponent(url.password) + 'x')).rejects.toMatchObject({
      code: '28P01',
    });
  });

  it('passes nothing of an unauthenticated client to the database: a query sent unasked is refused and the socket closed', async () => {
    const socket = connect(Number(url.port), '127.0.0.1');
    const received = collect(socket);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    // Startup message and a simple Query in one write, as a client skipping the password would send them.
    socket.write(
      Buffer.concat([startupMessage('postgres', 'postgres'), simpleQuery('SELECT secret FROM signing_keys')]),
    );
    const bytes = await received;
    const messages = parseMessages(bytes);
    expect(messages.map((m) => m.type)).toEqual(['R', 'E']);
    expect(messages[0].body.readInt32BE(0)).toBe(10); // AuthenticationSASL
    expect(messages[0].body.subarray(4).toString()).toBe('SCRAM-SHA-256\0\0');
    expect(messages[1].body.toString()).toContain('C08P01');
    expect(bytes.includes(Buffer.from('top secret'))).toBe(false);
  });

  it('refuses a made-up SCRAM proof', async () => {
    const socket = connect(Number(url.port), '127.0.0.1');
    const chunks: Buffer[] = [];
    let arrived = () => undefined as void;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      arrived();
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      Buffer.concat([startupMessage('postgres', 'postgres'), saslInitial('n,,n=*,r=clientnonce')]),
    );
    // The server-first message (AuthenticationSASLContinue, kind 11) names the nonce to answer with.
    const serverFirst = () =>
      parseMessages(Buffer.concat(chunks)).find((m) => m.type === 'R' && m.body.readInt32BE(0) === 11);
    while (!serverFirst()) await new Promise<void>((resolve) => (arrived = resolve));
    const nonce = /^r=([^,]+),/.exec(serverFirst()!.body.subarray(4).toString())![1];
    expect(nonce.startsWith('clientnonce')).toBe(true);
    socket.write(saslResponse(`c=biws,r=${nonce},p=${Buffer.alloc(32, 7).toString('base64')}`));
    await closed;
    const messages = parseMessages(Buffer.concat(chunks));
    expect(messages.at(-1)?.type).toBe('E');
    expect(messages.at(-1)?.body.toString()).toContain('C28P01');
    // No AuthenticationSASLFinal (12) nor AuthenticationOk (0).
    expect(messages.filter((m) => m.type === 'R').map((m) => m.body.readInt32BE(0))).toEqual([10, 11]);
  });

  it('makes a new password at every start, and the app runs on it (migrations, requests)', async () => {
    const own = new EmbeddedPostgres(undefined, 'main', { tcp: true });
    const dbUrl = await own.start();
    expect(new URL(dbUrl).password).not.toBe(url.password);
    const t = await startTestApp({ db: { url: dbUrl, kind: 'embedded', drop: () => own.stop() } });
    try {
      await request(t.url).get('/api/v1/health/ready').expect(200);
      expect(await t.app.get(DataSource).showMigrations()).toBe(false);
    } finally {
      await t.close();
      await own.stop();
    }
  }, 120_000);
});

/** Everything the server sends until it closes the socket. */
function collect(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks))));
}

function startupMessage(user: string, database: string): Buffer {
  const params = Buffer.from(`user\0${user}\0database\0${database}\0\0`);
  const header = Buffer.alloc(8);
  header.writeInt32BE(8 + params.length, 0);
  header.writeInt32BE(196608, 4);
  return Buffer.concat([header, params]);
}

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0);
  header.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([header, body]);
}

const simpleQuery = (sql: string) => message('Q', Buffer.from(`${sql}\0`));

function saslInitial(clientFirst: string): Buffer {
  const data = Buffer.from(clientFirst);
  const size = Buffer.alloc(4);
  size.writeInt32BE(data.length, 0);
  return message('p', Buffer.concat([Buffer.from('SCRAM-SHA-256\0'), size, data]));
}

const saslResponse = (text: string) => message('p', Buffer.from(text));

function parseMessages(bytes: Buffer): Array<{ type: string; body: Buffer }> {
  const messages: Array<{ type: string; body: Buffer }> = [];
  for (let at = 0; at + 5 <= bytes.length;) {
    const length = bytes.readInt32BE(at + 1);
    messages.push({ type: String.fromCharCode(bytes[at]), body: bytes.subarray(at + 5, at + 1 + length) });
    at += 1 + length;
  }
  return messages;
}
