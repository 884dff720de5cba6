// What the in-process benchmarks share: the database (embedded PGlite on a worker thread, or
// DATABASE_URL when `fromEnv`), the built app on a loopback port, and a registered user on the
// team tier (no quota or rate limit in the way of the measurement).
import { DataSource } from 'typeorm';
import { createApp } from '../dist/src/app.factory.js';
import { createLogger } from '../dist/src/common/logging/logger.js';
import { loadConfig } from '../dist/src/config/app-config.js';
import { EmbeddedPostgres } from '../dist/src/database/embedded-postgres.js';

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
    // The embedded server has one backend.
    ...(db.embedded ? { DATABASE_POOL_MAX: '1' } : {}),
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
