import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { requirePassword, ScramVerifier } from './wire-password.js';

/** Codes a client may send, unframed, before its startup message (in place of the protocol version). */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
/** Frontend message types: Terminate ('X'), and those after which a client waits for the answer with
 * no protocol state left open (Sync 'S', simple Query 'Q', a startup password 'p'). */
const TERMINATE = 0x58;
const SEQUENCE_ENDS = new Set([0x53, 0x51, 0x70]);

/** Bytes to run on the backend for one connection, or that connection's end. */
interface Work {
  connection: WireConnection;
  bytes?: Uint8Array;
  /** The bytes stop inside an extended-query sequence (no Sync yet): an unnamed statement or portal is open. */
  open?: boolean;
}

/**
 * Where the server listens: a Unix socket's directory (`host`, the socket
 * being `.s.PGSQL.<port>` in it, as PostgreSQL names its own) or 127.0.0.1,
 * with the password this start made for it (TCP only).
 */
export interface WireAddress {
  host: string;
  port: number;
  password?: string;
}

export interface WireServerOptions {
  /** Loopback TCP even where a Unix socket would do (what Windows gets; tests of that path). */
  tcp?: boolean;
}

/** A client connection: a net.Socket, or a PortLink's socket from another thread. */
export type WireSocket = Duplex & { setNoDelay(noDelay?: boolean): unknown };

/** The port number in a Unix socket's name: PostgreSQL's, which `pg` assumes when none is given. */
const SOCKET_PORT = 5432;
/** sun_path holds 108 bytes on Linux, 104 on macOS: a longer path falls back to TCP. */
const MAX_SOCKET_PATH = 100;
/** TCP clients still proving the password (each for 10 s at most): a flood of them stays bounded. */
const MAX_UNAUTHENTICATED = 32;

/**
 * Serves a PGlite database over the Postgres wire protocol, so the `pg`
 * driver and the same SQL as on a real server reach it. It listens on a Unix
 * socket in a directory only this user can enter (no other local user can
 * connect, and a query's round trip skips the TCP stack: measured with
 * bench:http, /auth/me ran about 5 % faster than over loopback TCP), or on a
 * loopback port where there are no Unix sockets (Windows) or the path would
 * be too long. Any local user can reach a loopback port, and the database
 * holds the plugin-signing and download keys: there each client must prove
 * a random password made at every start (SCRAM-SHA-256) before a byte
 * reaches the database. Connections handed to `serve` (the app's PortLink)
 * and the Unix socket's, behind a directory only this user can enter, need none.
 *
 * PGlite has one backend for every connection. Each time a connection's
 * socket yields data, every complete message in it (a driver's whole
 * Parse/Bind/Describe/Execute/Sync of one query) runs on the backend in one
 * call, and the answer leaves in one socket write: one pass through the WASM
 * engine and one wake-up of the client per query, instead of one per protocol
 * message. While a connection has a transaction open, or is between the
 * messages of one query (a large one arrives in several reads), only that
 * connection's work runs; its end rolls back whatever it left open.
 */
export class PgliteWireServer {
  private server?: Server;
  private socketDir?: string;
  private readonly connections = new Set<WireConnection>();
  private readonly unauthenticated = new Set<Socket>();
  private verifier?: ScramVerifier;
  private readonly queue: Work[] = [];
  private running = false;
  /** The connection whose work ran last: the one a still-open transaction or query belongs to. */
  private owner?: WireConnection;
  private ownerMidQuery = false;

  constructor(
    private readonly db: PGlite,
    private readonly maxConnections: number,
    private readonly options: WireServerOptions = {},
  ) {}

  /** Listens on a Unix socket where it can, else on a loopback port with a new password; resolves to where. */
  async start(): Promise<WireAddress> {
    await this.db.waitReady;
    this.socketDir = this.options.tcp ? undefined : privateSocketDir();
    const password = this.socketDir ? undefined : randomBytes(24).toString('base64url');
    this.verifier = password ? new ScramVerifier(password) : undefined;
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    const listening = new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', resolve);
    });
    if (this.socketDir) server.listen(join(this.socketDir, `.s.PGSQL.${SOCKET_PORT}`));
    else server.listen(0, '127.0.0.1');
    try {
      await listening;
    } catch (err) {
      await this.stop();
      throw err;
    }
    return this.socketDir
      ? { host: this.socketDir, port: SOCKET_PORT }
      : { host: '127.0.0.1', port: (server.address() as AddressInfo).port, password };
  }

  /** Closes every connection and the listening socket (and removes its directory). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const connection of this.connections) connection.socket.destroy();
    this.connections.clear();
    for (const socket of this.unauthenticated) socket.destroy();
    this.unauthenticated.clear();
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.socketDir) rmSync(this.socketDir, { recursive: true, force: true });
    this.socketDir = undefined;
  }

  /** A connection to the listening socket: on TCP, served once it has proven the password. */
  private accept(socket: Socket): void {
    const verifier = this.verifier;
    if (!verifier) return this.serve(socket);
    if (this.unauthenticated.size >= MAX_UNAUTHENTICATED) {
      socket.destroy();
      return;
    }
    this.unauthenticated.add(socket);
    requirePassword(
      socket,
      verifier,
      (received) => {
        this.unauthenticated.delete(socket);
        this.serve(socket, received);
      },
      () => this.unauthenticated.delete(socket),
    );
  }

  /**
   * Serves one client connection (the listening socket's, or one from elsewhere), `received`
   * being what it sent already (its startup message, when a password check read it).
   */
  serve(socket: WireSocket, received?: Buffer): void {
    if (!this.server || this.connections.size >= this.maxConnections) {
      socket.destroy();
      return;
    }
    const connection = new WireConnection(socket, (work) => this.enqueue(work));
    this.connections.add(connection);
    socket.once('close', () => {
      if (!this.connections.delete(connection)) return; // stopped: the database may be closed already
      this.enqueue({ connection });
    });
    if (received && received.length > 0) connection.receive(received);
  }

  private enqueue(work: Work): void {
    this.queue.push(work);
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let work = this.next(); work; work = this.next()) await this.run(work);
    } finally {
      this.running = false;
    }
  }

  /** The next work to run: the transaction owner's while it has one open, else the oldest. */
  private next(): Work | undefined {
    if (this.db.closed) {
      this.queue.length = 0;
      return undefined;
    }
    if (this.owner && (this.ownerMidQuery || this.db.isInTransaction())) {
      const index = this.queue.findIndex((work) => work.connection === this.owner);
      return index < 0 ? undefined : this.queue.splice(index, 1)[0];
    }
    return this.queue.shift();
  }

  private async run({ connection, bytes, open }: Work): Promise<void> {
    if (!bytes) {
      await this.end(connection);
      return;
    }
    this.owner = connection;
    this.ownerMidQuery = open === true;
    if (connection.socket.destroyed) return;
    const { socket } = connection;
    socket.cork();
    try {
      await this.db.runExclusive(() =>
        this.db.execProtocolRawStream(bytes, {
          // The engine reuses its output buffer: copy each piece out before the next one.
          onRawData: (chunk) => void socket.write(Buffer.from(chunk)),
        }),
      );
    } catch (err) {
      socket.destroy(err as Error);
    } finally {
      socket.uncork();
    }
  }

  /** A connection's end, as a real server ends its session. */
  private async end(connection: WireConnection): Promise<void> {
    const owned = this.owner === connection;
    if (owned) this.owner = undefined;
    try {
      // Nothing half done is left for the next connection: its open transaction is rolled back,
      // and, with no connection left, no statement prepared on the backend stays.
      if (owned && this.db.isInTransaction()) await this.db.exec('ROLLBACK');
      if (this.connections.size === 0) await this.db.exec('DEALLOCATE ALL');
    } catch {
      // The database is closing: nothing is left to clean.
    }
  }
}

/**
 * A new directory for the socket, readable by this user only (mkdtemp makes it
 * 0700), or undefined where a Unix socket is not to be used.
 */
function privateSocketDir(): string | undefined {
  if (process.platform === 'win32') return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'adiuva-pg-'));
  if (join(dir, `.s.PGSQL.${SOCKET_PORT}`).length <= MAX_SOCKET_PATH) return dir;
  rmSync(dir, { recursive: true, force: true });
  return undefined;
}

/** One client socket: frames its bytes into whole protocol messages for the server's queue. */
class WireConnection {
  private pending: Buffer = Buffer.alloc(0);
  private started = false;

  constructor(
    readonly socket: WireSocket,
    private readonly submit: (work: Work) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.receive(data));
    socket.on('error', () => socket.destroy());
  }

  receive(data: Buffer): void {
    this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, data]) : data;
    while (!this.started && this.pending.length >= 8) {
      if (!this.startupMessage()) return;
    }
    if (!this.started) return;
    const { end, last, terminate } = completeMessages(this.pending);
    if (end > 0) {
      const open = !SEQUENCE_ENDS.has(this.pending[last]);
      this.submit({ connection: this, bytes: this.pending.subarray(0, end), open });
    }
    this.pending = this.pending.subarray(end);
    if (terminate) this.socket.end();
  }

  /**
   * Handles what precedes the regular messages: an SSL or GSS encryption request (refused with
   * 'N', as a server without TLS does), a cancel request (not supported: the connection closes),
   * or the startup message, which the backend answers. False while it is incomplete.
   */
  private startupMessage(): boolean {
    const length = this.pending.readInt32BE(0);
    const code = this.pending.readInt32BE(4);
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      this.socket.write('N');
      this.pending = this.pending.subarray(8);
      return true;
    }
    if (code === CANCEL_REQUEST) {
      this.pending = Buffer.alloc(0);
      this.socket.end();
      return false;
    }
    if (this.pending.length < length) return false;
    this.submit({ connection: this, bytes: this.pending.subarray(0, length) });
    this.pending = this.pending.subarray(length);
    this.started = true;
    return true;
  }
}

/**
 * Where the complete messages at the start of `bytes` end (type byte, then a
 * length counting itself), where the last of them starts, and whether a
 * Terminate came: it ends the batch,
 * and is not passed on (the backend would exit).
 */
function completeMessages(bytes: Buffer): { end: number; last: number; terminate: boolean } {
  let end = 0;
  let last = 0;
  while (end + 5 <= bytes.length) {
    if (bytes[end] === TERMINATE) return { end, last, terminate: true };
    const next = end + 1 + bytes.readInt32BE(end + 1);
    if (next > bytes.length) break;
    last = end;
    end = next;
  }
  return { end, last, terminate: false };
}
