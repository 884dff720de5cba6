// npm run bench:vectors — N clustered 384-dim vectors (default 100k) for one user, among 10 users (the nine
// others hold BENCH_OTHER_VECTORS each), loaded through POST /storage/vectors/upsert; the HNSW indexes built
// as the server builds them at start; then Q searches of that user's rows, each four ways side by side:
// the HNSW path with the server's settings, the same with the previous settings (hnsw.ef_search 100,
// the baseline), an exact scan of the same rows (the same statement with index scans off), all three
// over a second connection with the SQL the service runs, and POST /storage/vectors/search. Prints
// build time, p50/p99 of each, recall@10 of both HNSW settings against exact, and the ratios
// (goals: recall >= 0.99 at API p50 <= 10 ms).
// Runs the built app in this process on embedded PGlite (pgvector).
// BENCH_VECTORS_DIR: keep the database there and reuse it when it already holds this data set (the
// load and build take minutes at 100k; their times are then those of the run that made it).
// BENCH_LOCK: a lock file held (flock) only while searching, not while loading and building.
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { registerTeamUser, startApp } from './support.mjs';
import {
  DEFAULT_SHARED_BUFFERS_MB,
  EmbeddedPostgres,
} from '../dist/src/database/embedded/embedded-postgres.js';
import { VectorIndexService } from '../dist/src/modules/vector/vector-index.service.js';
import * as vectorRepository from '../dist/src/modules/vector/vector.repository.js';
import { embeddingTarget, nearestQuery, searchSettings } from '../dist/src/modules/vector/vector.service.js';

const DIMS = 384;
const N = Number(process.env.BENCH_VECTORS ?? 100_000);
const OTHERS = 9;
const OTHER_N = Number(process.env.BENCH_OTHER_VECTORS ?? 5_000);
const { HNSW, embeddingIndexName } = vectorRepository;
// Built code from before issue 38 has no efSearchFor: its ef_search was max(HNSW.efSearch, top_k).
const efSearchFor = vectorRepository.efSearchFor ?? ((topK) => Math.max(HNSW.efSearch, topK));
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20);
// The embedded engine's shared_buffers (EMBEDDED_SHARED_BUFFERS_MB; the server's default unless set).
const SHARED_BUFFERS_MB = Number(process.env.EMBEDDED_SHARED_BUFFERS_MB ?? DEFAULT_SHARED_BUFFERS_MB);
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
const DATASET_DIR = process.env.BENCH_VECTORS_DIR;
const datasetFile = DATASET_DIR && `${DATASET_DIR}.dataset.json`;
const dataset = { vectors: N, others: OTHERS, otherVectors: OTHER_N, dims: DIMS };
const saved = datasetFile && existsSync(datasetFile) ? JSON.parse(readFileSync(datasetFile, 'utf8')) : null;
const reuse = saved && Object.entries(dataset).every(([k, v]) => saved[k] === v) ? saved : null;
/** The baseline: the search settings before issue 38 (hnsw.ef_search 100, iterative scan). */
const BASELINE_EF_SEARCH = 100;
/** Holds `path` (flock) until the returned release is called; answers the uptime line printed on taking it. */
const takeLock = async (path) => {
  const child = spawn('flock', [path, 'sh', '-c', 'uptime; echo LOCKED; cat > /dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.on('data', (d) => (out += d) && out.includes('LOCKED') && resolve());
  });
  return {
    uptime: out.replace('LOCKED', '').trim(),
    release: () => new Promise((resolve) => (child.once('exit', resolve), child.stdin.end())),
  };
};

let db;
if (DATASET_DIR) {
  if (!reuse) rmSync(DATASET_DIR, { recursive: true, force: true });
  const embedded = new EmbeddedPostgres(DATASET_DIR, 'worker', {}, SHARED_BUFFERS_MB);
  db = { url: await embedded.start(), embedded: true, stop: () => embedded.stop() };
} else {
  const embedded = new EmbeddedPostgres(undefined, 'worker', {}, SHARED_BUFFERS_MB);
  db = { url: await embedded.start(), embedded: true, stop: () => embedded.stop() };
}
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
  let targetId;
  let target;
  let loadMs;
  let buildMs;
  let total = N + OTHERS * OTHER_N;
  if (reuse) {
    ({ targetId, loadMs, buildMs, total } = reuse);
    // The data set's user signs in again (every bench user has the same password).
    const [{ email }] = (await sql.query('SELECT email FROM users WHERE id = $1', [targetId])).rows;
    const { access_token: token } = await post('/auth/login', { email, password: 'benchmark password' });
    target = { id: targetId, auth: { authorization: `Bearer ${token}` } };
  } else {
    const users = [];
    for (let i = 0; i <= OTHERS; i++) {
      users.push(await registerTeamUser(server, `vectors-${i}-${Date.now()}@example.com`));
    }
    let others;
    [target, ...others] = users;
    targetId = target.id;

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
    loadMs = performance.now() - loadStart;

    const buildStart = performance.now();
    await app.get(VectorIndexService).onApplicationBootstrap();
    buildMs = performance.now() - buildStart;
    await sql.query('ANALYZE vector_items');
    if (datasetFile)
      writeFileSync(datasetFile, JSON.stringify({ ...dataset, targetId, loadMs, buildMs, total }));
  }

  /** One search over the second connection: the server's settings, or the baseline's ef_search, or exact. */
  const search = async (query, mode) => {
    await sql.query('BEGIN');
    try {
      await sql.query(searchSettings(K).join('; '));
      if (mode === 'baseline') await sql.query(`SET LOCAL hnsw.ef_search = ${BASELINE_EF_SEARCH}`);
      // The exact path: the same statement with index scans off, so the user's rows are scanned and sorted.
      if (mode === 'exact') await sql.query('SET LOCAL enable_indexscan = off');
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
    await sql.query(searchSettings(K).join('; '));
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

  // Each way in a phase of its own over the same queries, after a warm-up of its own: a phase runs
  // on the cache its own reads leave (an exact scan in between would evict the index's pages).
  const queries = Array.from({ length: QUERIES }, clustered);
  const lock = process.env.BENCH_LOCK ? await takeLock(process.env.BENCH_LOCK) : null;
  const startLoad = loadavg();
  const phase = async (measure) => {
    for (let q = 0; q < WARMUP; q++) await measure(clustered());
    const results = [];
    for (const query of queries) results.push(await measure(query));
    return results;
  };
  const viaApi = async (query) => {
    const t0 = performance.now();
    const found = await post('/storage/vectors/search', { vector: query, top_k: K }, target.auth);
    return { ms: performance.now() - t0, ids: found.results.map((r) => r.id) };
  };
  let exactRuns;
  let hnswRuns;
  let baselineRuns;
  let apiRuns;
  try {
    exactRuns = await phase((query) => search(query, 'exact'));
    hnswRuns = await phase((query) => search(query, 'hnsw'));
    baselineRuns = await phase((query) => search(query, 'baseline'));
    apiRuns = await phase(viaApi);
  } finally {
    await lock?.release();
  }
  const recallOf = (runs) =>
    runs.reduce((sum, run, q) => sum + run.ids.filter((id) => exactRuns[q].ids.includes(id)).length, 0) /
    (QUERIES * K);
  const [exact, hnsw, baseline, api] = [exactRuns, hnswRuns, baselineRuns, apiRuns].map((runs) =>
    runs.map((run) => run.ms),
  );
  // The API runs the same search as the HNSW path: its results should be the same ids.
  const apiMismatches = apiRuns.filter((run, q) => run.ids.join() !== hnswRuns[q].ids.join()).length;
  const recall = recallOf(hnswRuns);
  const baselineRecall = recallOf(baselineRuns);
  const p50 = (xs) => percentile(xs, 0.5);

  console.log(
    `\n${N} clustered ${DIMS}-dim vectors of one user among ${OTHERS + 1} users (${total} rows, ${CLUSTERS} clusters), embedded PGlite, shared_buffers ${SHARED_BUFFERS_MB} MB`,
  );
  if (lock) console.log(`searches under ${process.env.BENCH_LOCK}, taken at: ${lock.uptime}`);
  console.log(`load average when the searches began: ${startLoad.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(
    `HNSW parameters: m = ${HNSW.m}, ef_construction = ${HNSW.efConstruction}, ` +
      `ef_search = ${efSearchFor(K)} at top ${K} (baseline ${BASELINE_EF_SEARCH})`,
  );
  console.log(
    `load through the API: ${(total / (loadMs / 1000)).toFixed(0)} items/s (${(loadMs / 1000).toFixed(1)} s)` +
      (reuse
        ? ' [data set reused from BENCH_VECTORS_DIR: load and build times of the run that made it]'
        : ''),
  );
  console.log(`index build (both HNSW indexes, as at start): ${(buildMs / 1000).toFixed(1)} s`);
  console.log(`plans: HNSW path "${await plan(false)}", exact path "${await plan(true)}"`);
  const fmt = (xs) => `p50 ${p50(xs).toFixed(2)} ms, p99 ${percentile(xs, 0.99).toFixed(2)} ms`;
  console.log(
    `search top ${K}, the same ${QUERIES} queries each way (a phase each, ${WARMUP} warm-up queries first):`,
  );
  console.log(`  exact (SQL):                           ${fmt(exact)}`);
  console.log(
    `  HNSW ef_search ${String(efSearchFor(K)).padEnd(4)} (SQL):             ${fmt(hnsw)}, recall@${K} ${recall.toFixed(3)}`,
  );
  console.log(
    `  HNSW ef_search ${String(BASELINE_EF_SEARCH).padEnd(4)} (SQL, baseline):   ${fmt(baseline)}, recall@${K} ${baselineRecall.toFixed(3)}`,
  );
  console.log(`  POST /storage/vectors/search:          ${fmt(api)}`);
  if (apiMismatches)
    console.log(`  (the API's ids differed from the HNSW path's in ${apiMismatches} queries)`);
  const met = recall >= 0.99 && p50(api) <= 10;
  console.log(
    `recall@${K}: ${recall.toFixed(3)} (baseline ${baselineRecall.toFixed(3)}) at API p50 ${p50(api).toFixed(2)} ms ` +
      `(goal >= 0.99 at <= 10 ms): ${met ? 'met' : 'NOT met'}`,
  );
  console.log(
    `ratios: HNSW p50 / exact p50 ${(p50(hnsw) / p50(exact)).toFixed(3)}, ` +
      `HNSW p50 / baseline p50 ${(p50(hnsw) / p50(baseline)).toFixed(2)}, ` +
      `API p50 / exact p50 ${(p50(api) / p50(exact)).toFixed(3)}`,
  );
} finally {
  await sql.end().catch(() => undefined);
  await app.close();
  await db.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
