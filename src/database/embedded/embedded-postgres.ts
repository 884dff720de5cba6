import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import { execFile } from 'node:child_process';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { PGlite } from '@electric-sql/pglite';
import { PgliteWireServer, type WireAddress, type WireServerOptions } from './pglite-wire-server.js';
import { PortLink } from './port-link.js';

/**
 * PGlite (Postgres compiled to WASM, with pgvector) served on a private Unix
 * socket (a loopback port where there is none), so the app reaches it
 * through the same `pg` driver and SQL as a real server.
 * `dataDir` undefined keeps everything in memory (tests); otherwise the files
 * live there and survive restarts. One process at a time may own a data dir:
 * a pid lock file turns a second start into a clear error instead of corruption.
 *
 * `thread: 'worker'` runs the database on a worker thread (the compiled
 * server does: PGlite's WASM engine then uses another core instead of the
 * event loop, and the app's own connections go over a message port, see
 * `connectionStream`); `'main'` keeps it on this thread (ts-jest cannot start a
 * TypeScript worker).
 */
export class EmbeddedPostgres {
  private db?: PGlite;
  private server?: PgliteWireServer;
  private worker?: Worker;
  private link?: PortLink;
  private lockFile?: string;
  private url?: string;

  constructor(
    private readonly dataDir?: string,
    private readonly thread: 'main' | 'worker' = 'main',
    private readonly serverOptions: WireServerOptions = {},
    private readonly sharedBuffersMb = DEFAULT_SHARED_BUFFERS_MB,
  ) {}

  /** Whether the compiled worker script is there (it is in dist/, not under ts-jest). */
  static workerAvailable(): boolean {
    return existsSync(WORKER_FILE);
  }

  /**
   * On the worker thread, what makes a `pg` connection's socket over the
   * thread's message port (the `stream` option of `pg`), which costs the two
   * threads fewer wake-ups than the Unix socket; undefined on this thread.
   */
  get connectionStream(): (() => Duplex) | undefined {
    const link = this.link;
    return link ? () => link.socket() : undefined;
  }

  get connectionUrl(): string {
    if (!this.url) throw new Error('Embedded Postgres is not started');
    return this.url;
  }

  async start(): Promise<string> {
    if (this.url) return this.url;
    if (this.dataDir) {
      mkdirSync(this.dataDir, { recursive: true });
      this.lockFile = join(this.dataDir, 'postmaster.lock');
      acquireLock(this.lockFile);
    }
    if (this.thread === 'worker') {
      try {
        // initdb's engine would stay in the serving worker's memory (~150 MB): a fresh data dir is
        // initialised by a process of its own (a thread's memory is not all given back when it exits).
        if (this.dataDir && !existsSync(join(this.dataDir, 'PG_VERSION'))) await this.initialise();
        this.url = connectionUrl(await this.startWorker());
        return this.url;
      } catch (err) {
        await this.stop();
        throw err;
      }
    }
    try {
      // Loaded here, not at the top: with the engine on a worker the main thread never needs PGlite.
      // One import (Jest's ESM runtime fails two concurrent dynamic imports of one module graph).
      const { PGlite, pgliteOptions } = await import('./pglite-options.js');
      this.db = await PGlite.create(pgliteOptions(this.dataDir ?? 'memory://', this.sharedBuffersMb));
      // PGlite has one backend: the socket server queues every connection's
      // queries onto it and keeps a transaction's queries together.
      this.server = new PgliteWireServer(this.db, MAX_CONNECTIONS, this.serverOptions);
      this.url = connectionUrl(await this.server.start());
    } catch (err) {
      await this.stop();
      throw err;
    }
    return this.url;
  }

  /** Initialises the data dir in a child process (embedded-postgres.initdb.ts) that then exits. */
  private initialise(): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [INITDB_FILE, this.dataDir!, String(this.sharedBuffersMb)],
        { maxBuffer: 1024 * 1024 },
        (err, _stdout, stderr) =>
          err
            ? reject(new Error(`Embedded Postgres failed to initialise: ${stderr.trim() || err.message}`))
            : resolve(),
      );
    });
  }

  private startWorker(): Promise<WireAddress> {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_FILE, {
      workerData: {
        sharedBuffersMb: this.sharedBuffersMb,
        dataDir: this.dataDir ?? 'memory://',
        maxConnections: MAX_CONNECTIONS,
        serverOptions: this.serverOptions,
        link: port2,
      },
      transferList: [port2],
    });
    this.worker = worker;
    this.link = new PortLink(port1);
    return new Promise((resolve, reject) => {
      worker.once('message', (msg: { ready?: WireAddress; error?: string }) =>
        msg.ready ? resolve(msg.ready) : reject(new Error(`Embedded Postgres failed to start: ${msg.error}`)),
      );
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`Embedded Postgres worker exited with ${code}`)));
    });
  }

  private async stopWorker(worker: Worker): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      worker.on('message', (msg: { stopped?: boolean }) => msg.stopped && resolve());
      worker.once('exit', () => resolve());
    });
    worker.postMessage('stop');
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 10_000))]);
    await worker.terminate();
  }

  async stop(): Promise<void> {
    const server = this.server;
    const db = this.db;
    const worker = this.worker;
    const link = this.link;
    this.link = undefined;
    this.server = undefined;
    this.db = undefined;
    this.worker = undefined;
    this.url = undefined;
    try {
      if (worker) await this.stopWorker(worker);
      link?.close();
      await server?.stop();
      if (db && !db.closed) await db.close();
    } finally {
      if (this.lockFile) releaseLock(this.lockFile);
      this.lockFile = undefined;
    }
  }
}

/**
 * PostgreSQL's default of 128 MB costs ~100 MB more resident memory for no gain here: the data
 * files are read through the OS's page cache, which keeps them as well.
 */
export const DEFAULT_SHARED_BUFFERS_MB = 32;

const WORKER_FILE = join(dirname(fileURLToPath(import.meta.url)), 'embedded-postgres.worker.js');
const INITDB_FILE = join(dirname(fileURLToPath(import.meta.url)), 'embedded-postgres.initdb.js');
/** Above the app's pool (EMBEDDED_POOL_SIZE), with room for reconnects racing the old sockets' close, and for tools. */
const MAX_CONNECTIONS = 64;

/**
 * A Unix socket's directory goes in the `host` parameter, which `pg` reads (the URL's host is a
 * placeholder); on loopback TCP the URL carries this start's password, which the server requires.
 */
function connectionUrl({ host, port, password }: WireAddress): string {
  return host.startsWith('/')
    ? `postgresql://postgres:postgres@localhost:${port}/postgres?host=${encodeURIComponent(host)}`
    : `postgresql://postgres:${encodeURIComponent(password ?? '')}@${host}:${port}/postgres`;
}

function acquireLock(file: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new Error(
          `The embedded database in ${file.replace(/postmaster\.lock$/, '')} is in use by process ${pid}. ` +
            'Stop that process, or use another DATA_DIR, or set DATABASE_URL.',
          { cause: err },
        );
      }
      // Stale lock of a process that is gone (or our own): take it over.
      rmSync(file, { force: true });
    }
  }
  throw new Error(`Could not lock ${file}`);
}

function releaseLock(file: string): void {
  try {
    if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
  } catch {
    // already gone
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
