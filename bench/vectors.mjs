// npm run bench:vectors — N clustered 384-dim vectors (default 100k) for one user, among 10 users (the nine
// others hold BENCH_OTHER_VECTORS each), loaded through POST /storage/vectors/upsert; the HNSW indexes built
// as the server builds them at start; then Q searches of that user's rows through the HNSW path and through
// an exact scan of the same rows, with the same SQL the service runs. Prints build time, search p50/p99,
// recall@10 of HNSW against exact, and the p50 ratio (goals: recall >= 0.95 at p50 <= 1/5 of exact).
// Runs the built app in this process on embedded PGlite (pgvector); the search timings are taken over
// a second connection to the same database, the API's own search latency is printed beside them.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { registerTeamUser, startApp, startDatabase } from './support.mjs';
import { VectorIndexService } from '../dist/src/modules/vector/vector-index.service.js';
import { HNSW, embeddingIndexName } from '../dist/src/modules/vector/vector.repository.js';
import { embeddingTarget, nearestQuery, searchSettings } from '../dist/src/modules/vector/vector.service.js';

const DIMS = 384;
const N = Number(process.env.BENCH_VECTORS ?? 100_000);
const OTHERS = 9;
const OTHER_N = Number(process.env.BENCH_OTHER_VECTORS ?? 5_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const CLUSTERS = 100;
const K = 10;
const BATCH = 500;

// Seeded, so runs are comparable.
let seed = 12345;
const random = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const gaussian = () => Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
const centres = Array.from({ length: CLUSTERS }, () => Array.from({ length: DIMS }, () => random() * 2 - 1));
const clustered = () => {
  const c = centres[Math.floor(random() * CLUSTERS)];
  return c.map((x) => Number((x + gaussian() * 0.35).toFixed(5)));
};
const percentile = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

const dataDir = mkdtempSync(join(tmpdir(), 'adiuva-bench-vectors-'));
// Always embedded: pgvector is what is measured, and CI's PostgreSQL lacks it.
const db = await startDatabase({ fromEnv: false });
const server = await startApp(db, { DATA_DIR: dataDir, VECTOR_DIMENSIONS: String(DIMS) });
const { app, base } = server;
const sql = new pg.Client({ connectionString: db.url });

const post = async (path, body, headers = {}, expected = 200) => {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (res.status !== expected) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return res.json();
};

try {
  await sql.connect();
  const users = [];
  for (let i = 0; i <= OTHERS; i++) {
    users.push(await registerTeamUser(server, `vectors-${i}-${Date.now()}@example.com`));
  }
  const [target, ...others] = users;

  // Bulk load first, index after: how an HNSW index is built fastest (and what the server does at start).
  await sql.query(`DROP INDEX IF EXISTS vector_items_hash_hnsw, ${embeddingIndexName(DIMS)}`);
  const load = async (user, count) => {
    for (let done = 0; done < count; done += BATCH) {
      const vectors = Array.from({ length: Math.min(BATCH, count - done) }, (_, i) => {
        const blob = randomBytes(64);
        return {
          id: `v-${done + i}`,
          blob: blob.toString('base64'),
          checksum: createHash('sha256').update(blob).digest('hex'),
          vector: clustered(),
        };
      });
      await post('/storage/vectors/upsert', { vectors }, user.auth);
    }
  };
  const loadStart = performance.now();
  await load(target, N);
  for (const o of others) await load(o, OTHER_N);
  const loadMs = performance.now() - loadStart;
  const total = N + OTHERS * OTHER_N;

  const buildStart = performance.now();
  await app.get(VectorIndexService).onApplicationBootstrap();
  const buildMs = performance.now() - buildStart;
  await sql.query('ANALYZE vector_items');

  const search = async (query, exact) => {
    await sql.query('BEGIN');
    try {
      for (const s of searchSettings(K)) await sql.query(s);
      // The exact path: the same statement with index scans off, so the user's rows are scanned and sorted.
      if (exact) await sql.query('SET LOCAL enable_indexscan = off');
      const start = performance.now();
      const { rows } = await sql.query(nearestQuery(embeddingTarget(DIMS)), [
        target.id,
        `[${query.join(',')}]`,
        K,
      ]);
      return { ms: performance.now() - start, ids: rows.map((r) => r.item_id) };
    } finally {
      await sql.query('COMMIT');
    }
  };
  const plan = async (exact) => {
    await sql.query('BEGIN');
    for (const s of searchSettings(K)) await sql.query(s);
    if (exact) await sql.query('SET LOCAL enable_indexscan = off');
    const { rows } = await sql.query(`EXPLAIN ${nearestQuery(embeddingTarget(DIMS))}`, [
      target.id,
      `[${clustered().join(',')}]`,
      K,
    ]);
    await sql.query('COMMIT');
    return rows
      .map((r) => r['QUERY PLAN'])
      .find((l) => /Scan/.test(l))
      ?.trim();
  };

  const hnsw = [];
  const exact = [];
  const api = [];
  let hits = 0;
  for (let q = 0; q < QUERIES; q++) {
    const query = clustered();
    const a = await search(query, false);
    const e = await search(query, true);
    hnsw.push(a.ms);
    exact.push(e.ms);
    hits += a.ids.filter((id) => e.ids.includes(id)).length;
    const t0 = performance.now();
    await post('/storage/vectors/search', { vector: query, top_k: K }, target.auth);
    api.push(performance.now() - t0);
  }
  const recall = hits / (QUERIES * K);
  const ratio = percentile(hnsw, 0.5) / percentile(exact, 0.5);

  console.log(
    `\n${N} clustered ${DIMS}-dim vectors of one user among ${OTHERS + 1} users (${total} rows, ${CLUSTERS} clusters), embedded PGlite`,
  );
  console.log(
    `HNSW parameters: m = ${HNSW.m}, ef_construction = ${HNSW.efConstruction}, ef_search = ${HNSW.efSearch}`,
  );
  console.log(
    `load through the API: ${(total / (loadMs / 1000)).toFixed(0)} items/s (${(loadMs / 1000).toFixed(1)} s)`,
  );
  console.log(`index build (both HNSW indexes, as at start): ${(buildMs / 1000).toFixed(1)} s`);
  console.log(`plans: HNSW path "${await plan(false)}", exact path "${await plan(true)}"`);
  const fmt = (xs) => `p50 ${percentile(xs, 0.5).toFixed(2)} ms, p99 ${percentile(xs, 0.99).toFixed(2)} ms`;
  console.log(`search top ${K}, ${QUERIES} queries:`);
  console.log(`  HNSW (SQL):  ${fmt(hnsw)}`);
  console.log(`  exact (SQL): ${fmt(exact)}`);
  console.log(`  HNSW through POST /storage/vectors/search: ${fmt(api)}`);
  console.log(`recall@${K}: ${recall.toFixed(3)} (goal >= 0.95): ${recall >= 0.95 ? 'met' : 'NOT met'}`);
  console.log(`HNSW p50 / exact p50: ${ratio.toFixed(3)} (goal <= 0.2): ${ratio <= 0.2 ? 'met' : 'NOT met'}`);
} finally {
  await sql.end().catch(() => undefined);
  await app.close();
  await db.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
