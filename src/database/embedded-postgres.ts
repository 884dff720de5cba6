import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * PGlite (Postgres compiled to WASM, with pgvector) served on a loopback port,
 * so the app reaches it through the same `pg` driver and SQL as a real server.
 * `dataDir` undefined keeps everything in memory (tests); otherwise the files
 * live there and survive restarts. One process at a time may own a data dir:
 * a pid lock file turns a second start into a clear error instead of corruption.
 */
export class EmbeddedPostgres {
  private db?: PGlite;
  private server?: PGLiteSocketServer;
  private lockFile?: string;
  private url?: string;

  constructor(private readonly dataDir?: string) {}

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
    try {
      this.db = await PGlite.create({
        dataDir: this.dataDir ?? 'memory://',
        extensions: { vector },
      });
      // PGlite has one backend: the socket server queues every connection's
      // queries onto it and keeps a transaction's queries together. The app
      // uses one connection; more are allowed so a reconnect racing the close
      // of the previous socket, or a test pointing a full pool at it, is not refused.
      this.server = new PGLiteSocketServer({ db: this.db, host: '127.0.0.1', port: 0, maxConnections: 16 });
      await this.server.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.url = `postgresql://postgres:postgres@${this.server.getServerConn()}/postgres`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    const db = this.db;
    this.server = undefined;
    this.db = undefined;
    this.url = undefined;
    try {
      await server?.stop();
      if (db && !db.closed) await db.close();
    } finally {
      if (this.lockFile) releaseLock(this.lockFile);
      this.lockFile = undefined;
    }
  }
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
