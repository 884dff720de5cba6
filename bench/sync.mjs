// npm run bench:sync — create N records (default 20k) through POST /storage/records, then pull the
// whole changes feed in pages of 1000; print records/s, changes/s, and the pull time as a ratio to
// reading the same rows with one plain SQL query in the same run (goal <= 3x).
// Runs the built app in this process on embedded PGlite (or DATABASE_URL) and the files blob store.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { registerTeamUser, startApp, startDatabase } from './support.mjs';

const N = Number(process.env.BENCH_RECORDS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const PAGE = 1000;

const dataDir = mkdtempSync(join(tmpdir(), 'adiuva-bench-sync-'));
const db = await startDatabase();
const server = await startApp(db, { DATA_DIR: dataDir });
const { app, base } = server;
const sql = new pg.Client({ connectionString: db.url });

try {
  const post = (path, body, headers = {}) =>
    fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const { id: userId, auth } = await registerTeamUser(server, `sync-${Date.now()}@example.com`);
  await sql.connect();

  const blob = randomBytes(256);
  const body = {
    table: 'notes',
    blob: blob.toString('base64'),
    checksum: createHash('sha256').update(blob).digest('hex'),
  };
  let next = 0;
  const writeStart = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        next++;
        const res = await post('/storage/records', body, auth);
        if (res.status !== 201) throw new Error(`create answered ${res.status}: ${await res.text()}`);
      }
    }),
  );
  const writeMs = performance.now() - writeStart;

  const pullStart = performance.now();
  let cursor = '';
  let pulled = 0;
  for (;;) {
    const res = await fetch(`${base}/storage/changes?limit=${PAGE}${cursor ? `&cursor=${cursor}` : ''}`, {
      headers: auth,
    });
    const page = await res.json();
    pulled += page.changes.length;
    cursor = page.next_cursor;
    if (!page.has_more) break;
  }
  const pullMs = performance.now() - pullStart;
  if (pulled !== N) throw new Error(`pulled ${pulled} changes, expected ${N}`);

  const sqlStart = performance.now();
  const rows = await sql.query(
    `SELECT seq, record_id, table_name, op, version, checksum, size_bytes, changed_at FROM storage_changes
      WHERE user_id = $1 ORDER BY seq`,
    [userId],
  );
  const sqlMs = performance.now() - sqlStart;

  console.log(
    `\n${N} records, ${CONCURRENCY} concurrent writers, database: ${db.embedded ? 'embedded PGlite' : 'DATABASE_URL'}`,
  );
  console.log(`writes: ${(N / (writeMs / 1000)).toFixed(0)} records/s (${(writeMs / 1000).toFixed(1)} s)`);
  console.log(
    `pull:   ${(N / (pullMs / 1000)).toFixed(0)} changes/s (${pullMs.toFixed(0)} ms, pages of ${PAGE})`,
  );
  console.log(`plain SQL read of the same ${rows.rowCount} rows: ${sqlMs.toFixed(0)} ms`);
  const ratio = pullMs / sqlMs;
  console.log(`pull / plain SQL: ${ratio.toFixed(2)}x (goal <= 3x): ${ratio <= 3 ? 'met' : 'NOT met'}`);
} finally {
  await sql.end().catch(() => undefined);
  await app.close();
  await db.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
