// npm run bench:sync — create N records (default 20k) through POST /storage/records with 16 writers,
// then pull the whole changes feed in pages of 1000 (GET /storage/changes, cursor to cursor), and
// beside each page the plain SQL that returns that page's rows: the feed's own WHERE/ORDER/LIMIT
// (user_id = $1 AND seq > $2 ORDER BY seq LIMIT page + 1, the look-ahead row the service reads
// for has_more) over a pg connection to the same database (a pool connection of the same kind the
// app uses). Pages and their SQL alternate in one run, in PASSES passes over the feed after one
// warm-up pass, so both see the same load. Prints records/s (goal >= 1,000/s with 16 writers on
// PostgreSQL 15), page median/p99 of both and their ratio (goal <= 3x), and the whole-feed pull
// against one plain SQL read of all rows.
// Runs the built app in this process on embedded PGlite (or DATABASE_URL) and the files blob store.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { registerTeamUser, startApp, startDatabase } from './support.mjs';

const N = Number(process.env.BENCH_RECORDS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const PASSES = Number(process.env.BENCH_PASSES ?? 5);
const PAGE = 1000;
const COLUMNS = 'seq, record_id, table_name, op, version, checksum, size_bytes, changed_at';

const percentile = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const fmt = (xs) => `median ${percentile(xs, 0.5).toFixed(2)} ms, p99 ${percentile(xs, 0.99).toFixed(2)} ms`;

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

  /** One page through the API: its time, its rows' seqs' bounds, and the next cursor. */
  const pullPage = async (cursor) => {
    const start = performance.now();
    const res = await fetch(`${base}/storage/changes?limit=${PAGE}${cursor ? `&cursor=${cursor}` : ''}`, {
      headers: auth,
    });
    const page = await res.json();
    const ms = performance.now() - start;
    if (res.status !== 200) throw new Error(`changes answered ${res.status}: ${JSON.stringify(page)}`);
    return { ms, count: page.changes.length, cursor: page.next_cursor, more: page.has_more };
  };
  /** The same page as plain SQL: rows after `afterSeq`, in seq order, as many as the service reads. */
  const sqlPage = async (afterSeq) => {
    const start = performance.now();
    const { rows } = await sql.query(
      `SELECT ${COLUMNS} FROM storage_changes WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [userId, afterSeq, PAGE + 1],
    );
    return { ms: performance.now() - start, rows };
  };

  const apiMs = [];
  const sqlMs = [];
  const feedMs = [];
  for (let pass = 0; pass <= PASSES; pass++) {
    let cursor = '';
    let after = 0;
    let pulled = 0;
    let feed = 0;
    for (let i = 0; ; i++) {
      // Alternate which goes first, so neither always runs on a cache the other warmed.
      let api;
      let s;
      if (i % 2 === 0) {
        api = await pullPage(cursor);
        s = await sqlPage(after);
      } else {
        s = await sqlPage(after);
        api = await pullPage(cursor);
      }
      const page = s.rows.slice(0, PAGE);
      if (page.length !== api.count) throw new Error(`page ${i}: API ${api.count} rows, SQL ${page.length}`);
      if (pass > 0) {
        apiMs.push(api.ms);
        sqlMs.push(s.ms);
      }
      feed += api.ms;
      pulled += api.count;
      cursor = api.cursor;
      after = page.length ? page[page.length - 1].seq : after;
      if (!api.more) break;
    }
    if (pulled !== N) throw new Error(`pulled ${pulled} changes, expected ${N}`);
    if (pass > 0) feedMs.push(feed);
  }

  const allStart = performance.now();
  const all = await sql.query(`SELECT ${COLUMNS} FROM storage_changes WHERE user_id = $1 ORDER BY seq`, [
    userId,
  ]);
  const allMs = performance.now() - allStart;

  const label = db.embedded ? 'embedded PGlite' : 'DATABASE_URL (PostgreSQL)';
  console.log(`\n${N} records, ${CONCURRENCY} concurrent writers, database: ${label}`);
  console.log(
    `load average at the end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const rate = N / (writeMs / 1000);
  console.log(
    `writes: ${rate.toFixed(0)} records/s (${(writeMs / 1000).toFixed(1)} s) (goal >= 1,000/s on PostgreSQL 15): ${rate >= 1000 ? 'met' : 'NOT met'}`,
  );
  console.log(`pull pages of ${PAGE}, ${apiMs.length} pages (${PASSES} passes after a warm-up):`);
  console.log(`  GET /storage/changes:          ${fmt(apiMs)}`);
  console.log(`  plain SQL of the same rows:    ${fmt(sqlMs)}`);
  const ratio = percentile(apiMs, 0.5) / percentile(sqlMs, 0.5);
  const ratio99 = percentile(apiMs, 0.99) / percentile(sqlMs, 0.99);
  console.log(
    `page / plain SQL: median ${ratio.toFixed(2)}x, p99 ${ratio99.toFixed(2)}x (goal <= 3x): ${ratio <= 3 ? 'met' : 'NOT met'}`,
  );
  const feed = percentile(feedMs, 0.5);
  console.log(
    `whole feed: ${N} changes in ${feed.toFixed(0)} ms (${(N / (feed / 1000)).toFixed(0)} changes/s, median of ${PASSES} passes); ` +
      `one plain SQL read of all ${all.rowCount} rows: ${allMs.toFixed(0)} ms (${(feed / allMs).toFixed(2)}x)`,
  );
} finally {
  await sql.end().catch(() => undefined);
  await app.close();
  await db.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
