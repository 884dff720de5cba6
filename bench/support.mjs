// What the in-process benchmarks share: the database (embedded PGlite on a worker thread, or
// DATABASE_URL when `fromEnv`), the built app on a loopback port, and a registered user on the
// team tier (no quota or rate limit in the way of the measurement).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { createApp } from '../dist/src/app.factory.js';
import { createLogger } from '../dist/src/common/logging/logger.js';
import { loadConfig } from '../dist/src/config/app-config.js';
import { EMBEDDED_POOL_SIZE } from '../dist/src/database/database.options.js';
import { EmbeddedPostgres } from '../dist/src/database/embedded/embedded-postgres.js';

export async function startDatabase({ fromEnv = true } = {}) {
  const external = fromEnv ? process.env.DATABASE_URL : undefined;
  const embedded = external ? undefined : new EmbeddedPostgres(undefined, 'worker');
  const url = external ?? (await embedded.start());
  return { url, embedded: Boolean(embedded), stop: () => embedded?.stop() ?? Promise.resolve() };
}

/** The built app on 127.0.0.1 with rate limits off; `base` ends in /api/v1. */
export async function startApp(db, env) {
  const config = loadConfig({
    DATABASE_URL: db.url,
    // The pool the app's embedded mode uses.
    ...(db.embedded ? { DATABASE_POOL_MAX: String(EMBEDDED_POOL_SIZE) } : {}),
    RATE_LIMIT_ENABLED: 'false',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const app = await createApp(config, { logger: createLogger(config) });
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1') + '/api/v1';
  return { app, base };
}

/** Registers `email` and moves the account to the team tier. */
export async function registerTeamUser({ app, base }, email) {
  const res = await fetch(`${base}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'benchmark password' }),
  });
  if (res.status !== 201) throw new Error(`register answered ${res.status}: ${await res.text()}`);
  const { access_token: token } = await res.json();
  const id = JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).sub;
  await app.get(DataSource).query(`UPDATE users SET tier_override = 'team' WHERE id = $1`, [id]);
  return { id, token, auth: { authorization: `Bearer ${token}` } };
}

/** A free loopback port (the probe socket is closed before it is returned). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

/**
 * The built server (node dist/src/main.js) in a child process of its own on 127.0.0.1, against `db`
 * (the embedded mode's pool when embedded, as startApp), rate limits off, LOG_LEVEL=warn, then `env`.
 * Only PATH is inherited from this process's environment, and it runs in `env.DATA_DIR` (when given),
 * so no .env file is read. `base` ends in /api/v1; `cpuMs()` is the child's CPU time so far (user +
 * system, all its threads, from /proc, 10 ms steps); `logs()` the tail of its output.
 * `nodeArgs` go before the script (e.g. --expose-gc, --cpu-prof); `ipc` opens an IPC channel
 * (`child.send`, for a module preloaded with --import that answers over it).
 */
export async function startAppProcess(db, env = {}, { nodeArgs = [], ipc = false } = {}) {
  const port = await freePort();
  // BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"): Node flags for the server only,
  // for profiling a bench run (--cpu-prof is not allowed in NODE_OPTIONS); after the caller's own.
  const profiling = process.env.BENCH_SERVER_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const script = fileURLToPath(new URL('../dist/src/main.js', import.meta.url));
  const child = spawn(process.execPath, [...nodeArgs, ...profiling, script], {
    cwd: env.DATA_DIR,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: db.url,
      ...(db.embedded ? { DATABASE_POOL_MAX: String(EMBEDDED_POOL_SIZE) } : {}),
      RATE_LIMIT_ENABLED: 'false',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])],
  });
  let logs = '';
  const keep = (d) => (logs = (logs + d.toString()).slice(-20_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  /** @type {Promise<{ code: number | null, signal: string | null }>} */
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const base = `http://127.0.0.1:${port}/api/v1`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const early = await Promise.race([exited, sleep(100).then(() => undefined)]);
    if (early)
      throw new Error(`The server exited (${early.code ?? early.signal}) before listening:\n${logs}`);
    try {
      await (await fetch(`${base}/health`)).arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`The server did not listen within 120 s:\n${logs}`);
      }
    }
  }
  const cpuMs = () => {
    // Fields after the command name: state is the 1st, utime the 12th, stime the 13th (USER_HZ = 100).
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const done = await Promise.race([exited, sleep(15_000).then(() => undefined)]);
    if (!done) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  return { child, base, cpuMs, logs: () => logs, stop };
}

/** Runs one query on the database at `url` through the pg driver; returns its rows. */
export async function queryDatabase(url, sql, params = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** registerTeamUser for a server in another process: the tier is set through the pg driver at `dbUrl`. */
export async function registerTeamUserAt(base, dbUrl, email) {
  const res = await fetch(`${base}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'benchmark password' }),
  });
  if (res.status !== 201) throw new Error(`register answered ${res.status}: ${await res.text()}`);
  const { access_token: token } = await res.json();
  const id = JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).sub;
  await queryDatabase(dbUrl, `UPDATE users SET tier_override = 'team' WHERE id = $1`, [id]);
  return { id, token, auth: { authorization: `Bearer ${token}` } };
}
