import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { embeddingTarget, nearestQuery, searchSettings } from '../src/modules/vector/vector.service.js';
import { withServer } from './support/conditions.js';
import { FakeOpenAi, fakeEmbedding } from './support/fake-openai.js';
import { createTestDatabase } from './support/test-database.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';

const DIMS = 8;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const item = (id: string, bytes: Buffer, vector?: number[]) => ({
  id,
  blob: bytes.toString('base64'),
  checksum: sha(bytes),
  ...(vector ? { vector } : {}),
});
const cosine = (a: number[], b: number[]) => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
};
/** Seeded, so a failing ranking can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const randomVector = (next: () => number, dims = DIMS) => Array.from({ length: dims }, () => next() * 2 - 1);
const messageOf = (res: request.Response) =>
  ([] as string[]).concat(res.body.message as string | string[]).join('\n');
/** Float32 as stored, so the brute-force scores match the server's. */
const f32 = (v: number[]) => Array.from(new Float32Array(v));

describe('vector store (embedded Postgres with pgvector)', () => {
  let t: TestApp;
  let db: DataSource;
  let openai: FakeOpenAi;
  beforeAll(async () => {
    openai = await new FakeOpenAi().start();
    t = await startTestApp({
      embeddedDb: true,
      env: {
        VECTOR_DIMENSIONS: String(DIMS),
        VECTOR_MAX_BLOB_BYTES: '4096',
        ...openai.env,
        EMBEDDINGS_MODEL: 'text-embedding-3-small',
        RATE_LIMIT_ENABLED: 'false',
      },
    });
    db = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t.close();
    await openai.stop();
  });

  const api = () => request(t.url);
  const upsert = (u: TestUser, vectors: unknown[]) =>
    api().post('/api/v1/storage/vectors/upsert').set(u.auth).send({ vectors });
  const search = (u: TestUser, body: Record<string, unknown>) =>
    api().post('/api/v1/storage/vectors/search').set(u.auth).send(body);
  const remove = (u: TestUser, ids: unknown) =>
    api().delete('/api/v1/storage/vectors').set(u.auth).send({ ids });
  const used = async (u: TestUser) =>
    (await api().get('/api/v1/storage/usage').set(u.auth).expect(200)).body.used_bytes as number;
  const stored = async (u: TestUser) =>
    (await db.query('SELECT count(*)::int AS n FROM vector_items WHERE user_id = $1', [u.id]))[0].n as number;

  it('builds the HNSW indexes for both modes at start', async () => {
    const rows = await db.query<Array<{ indexname: string; indexdef: string }>>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'vector_items' AND indexdef LIKE '%hnsw%' ORDER BY 1",
    );
    expect(rows.map((r) => r.indexname)).toEqual([
      `vector_items_embedding_${DIMS}_hnsw`,
      'vector_items_hash_hnsw',
    ]);
    expect(rows[0].indexdef).toContain(`WHERE (dims = ${DIMS})`);
  });

  it('blob-hash mode: an identical blob is found with score 1, the blob comes back as stored', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const blobs = Array.from({ length: 20 }, () => randomBytes(64 + Math.floor(Math.random() * 200)));
    const res = await upsert(
      u,
      blobs.map((b, i) => item(`note-${i}`, b)),
    ).expect(200);
    expect(res.body).toEqual({ upserted: 20 });

    const found = await search(u, { query_blob: blobs[7].toString('base64'), top_k: 3 }).expect(200);
    expect(found.body.results).toHaveLength(3);
    expect(found.body.results[0]).toEqual({
      id: 'note-7',
      score: expect.any(Number),
      blob: blobs[7].toString('base64'),
    });
    expect(found.body.results[0].score).toBeCloseTo(1, 5);
    // Other blobs are unrelated: clearly lower, best first.
    expect(found.body.results[1].score).toBeLessThan(0.9);
    expect(found.body.results[1].score).toBeGreaterThanOrEqual(found.body.results[2].score);
    expect(await used(u)).toBe(blobs.reduce((n, b) => n + b.length, 0));
  });

  it('semantic mode: ranking and scores match a brute-force cosine computation', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const next = rng(42);
    const vectors = Array.from({ length: 120 }, () => randomVector(next));
    await upsert(
      u,
      vectors.map((v, i) => item(`doc-${i}`, randomBytes(32), v)),
    ).expect(200);

    for (let q = 0; q < 5; q++) {
      const query = randomVector(next);
      const expected = vectors
        .map((v, i) => ({ id: `doc-${i}`, score: cosine(f32(v), f32(query)) }))
        .sort((a, b) => b.score - a.score)
        .slice(0, 10);
      const res = await search(u, { vector: query, top_k: 10 }).expect(200);
      expect(res.body.results.map((r: { id: string }) => r.id)).toEqual(expected.map((e) => e.id));
      res.body.results.forEach((r: { score: number }, i: number) =>
        expect(r.score).toBeCloseTo(expected[i].score, 5),
      );
    }
  });

  it("finds top_k of the user's own rows when many nearer rows of other users are present", async () => {
    const next = rng(7);
    const query = randomVector(next);
    // 1,500 rows of three other users, all almost exactly the query: an unfiltered index scan meets them first.
    for (let o = 0; o < 3; o++) {
      const other = await newUser(t, { tier: 'pro' });
      await upsert(
        other,
        Array.from({ length: 500 }, (_, i) =>
          item(
            `o-${i}`,
            randomBytes(16),
            query.map((x) => x + (next() - 0.5) * 0.01),
          ),
        ),
      ).expect(200);
    }
    const u = await newUser(t, { tier: 'pro' });
    const mine = Array.from({ length: 40 }, () => randomVector(next));
    await upsert(
      u,
      mine.map((v, i) => item(`m-${i}`, randomBytes(16), v)),
    ).expect(200);

    const res = await search(u, { vector: query, top_k: 25 }).expect(200);
    const expected = mine
      .map((v, i) => ({ id: `m-${i}`, score: cosine(f32(v), f32(query)) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 25)
      .map((e) => e.id);
    expect(res.body.results.map((r: { id: string }) => r.id)).toEqual(expected);

    // With so few rows of this user the planner may rightly prefer its btree; take the HNSW path on purpose
    // (sorting disabled, so only an ordered index scan is cheap) and check it finds the same rows.
    const viaIndex = await db.transaction(async (m) => {
      for (const setting of [...searchSettings(25), 'SET LOCAL enable_sort = off']) await m.query(setting);
      const params = [u.id, `[${query.join(',')}]`, 25];
      const plan = await m.query<Array<{ 'QUERY PLAN': string }>>(
        `EXPLAIN ${nearestQuery(embeddingTarget(DIMS))}`,
        params,
      );
      expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toContain(
        `Index Scan using vector_items_embedding_${DIMS}_hnsw`,
      );
      return m.query<Array<{ item_id: string }>>(nearestQuery(embeddingTarget(DIMS)), params);
    });
    expect(viaIndex.map((r) => r.item_id)).toEqual(expected);
  });

  it('keeps users apart: identical blobs and ids of two users never cross, delete touches only the caller', async () => {
    const a = await newUser(t, { tier: 'pro' });
    const b = await newUser(t, { tier: 'pro' });
    const blob = randomBytes(100);
    const v = randomVector(rng(1));
    await upsert(a, [item('shared', blob, v), item('only-a', randomBytes(10))]).expect(200);
    await upsert(b, [item('shared', blob, v), item('only-b', randomBytes(10))]).expect(200);

    const byBlob = await search(a, { query_blob: blob.toString('base64'), top_k: 100 }).expect(200);
    expect(byBlob.body.results.map((r: { id: string }) => r.id).sort()).toEqual(['only-a', 'shared']);
    const byVector = await search(b, { vector: v, top_k: 100 }).expect(200);
    expect(byVector.body.results.map((r: { id: string }) => r.id)).toEqual(['shared']);

    expect((await remove(a, ['shared', 'only-b', 'never-existed']).expect(200)).body).toEqual({
      ok: true,
      deleted: 1,
    });
    expect(await stored(a)).toBe(1);
    expect(await stored(b)).toBe(2);
    expect(await used(a)).toBe(10);
    expect(await used(b)).toBe(110);
  });

  it('upsert replaces an item: new blob and vector, usage counts the new size only', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const first = randomBytes(300);
    const second = randomBytes(120);
    const v1 = randomVector(rng(3));
    const v2 = randomVector(rng(4));
    await upsert(u, [item('x', first, v1)]).expect(200);
    await upsert(u, [item('x', second, v2)]).expect(200);
    expect(await stored(u)).toBe(1);
    expect(await used(u)).toBe(120);
    const res = await search(u, { vector: v2, top_k: 1 }).expect(200);
    expect(res.body.results).toEqual([
      { id: 'x', score: expect.any(Number), blob: second.toString('base64') },
    ]);
    expect(res.body.results[0].score).toBeCloseTo(1, 5);
  });

  describe('a batch is stored whole or not at all', () => {
    const cases: Array<[string, (good: ReturnType<typeof item>) => unknown, RegExp]> = [
      [
        'a checksum mismatch',
        (g) => ({ ...g, checksum: sha(Buffer.from('other')) }),
        /vectors\[1\] \(id "bad"\): checksum/,
      ],
      [
        'a wrong dimension',
        (g) => ({ ...g, vector: [1, 2, 3] }),
        /vectors\[1\] \(id "bad"\): vector has 3 dimensions; this server expects 8/,
      ],
      ['bad base64', (g) => ({ ...g, blob: '***' }), /vectors\.1\.blob must be base64/],
      [
        'a non-number in the vector',
        (g) => ({ ...g, vector: [1, 2, 3, 4, 5, 6, 7, 'x'] }),
        /vectors\.1\.vector must be an array/,
      ],
      ['an all-zero vector', (g) => ({ ...g, vector: new Array(DIMS).fill(0) }), /all zeros/],
      [
        'an id with a control character',
        (g) => ({ ...g, id: 'bad\u0007id' }),
        /vectors\.1\.id must be 1–200 characters/,
      ],
      [
        'an id with a NUL (refused for every field before validation)',
        (g) => ({ ...g, id: 'bad\u0000id' }),
        /vectors\[1\]\.id must not contain NUL/,
      ],
      ['a too long id', (g) => ({ ...g, id: 'x'.repeat(201) }), /vectors\.1\.id must be 1–200 characters/],
      ['an id twice', (g) => ({ ...g, id: 'first' }), /vectors\[1\]: id "first" appears twice/],
    ];
    it.each(cases)(
      '%s → 400 naming the item, nothing stored, usage unchanged',
      async (_name, spoil, message) => {
        const u = await newUser(t, { tier: 'pro' });
        await upsert(u, [item('kept', randomBytes(50))]).expect(200);
        const bad = spoil(item('bad', randomBytes(40), randomVector(rng(5))));
        const res = await upsert(u, [
          item('first', randomBytes(40)),
          bad,
          item('third', randomBytes(40)),
          item('kept', randomBytes(70)),
        ]).expect(400);
        expect(messageOf(res)).toMatch(message);
        expect(await stored(u)).toBe(1);
        expect(await used(u)).toBe(50);
      },
    );

    it('an item blob over VECTOR_MAX_BLOB_BYTES → 413 naming it', async () => {
      const u = await newUser(t, { tier: 'pro' });
      const res = await upsert(u, [item('big', randomBytes(4097))]).expect(413);
      expect(res.body.message).toMatch(/vectors\[0\] \(id "big"\): blob exceeds the limit of 4096 bytes/);
      expect(await stored(u)).toBe(0);
    });
  });

  it.each([
    [{ top_k: 5 }, /exactly one of query_blob, vector or query_text/],
    [{ vector: [1, 2, 3, 4, 5, 6, 7, 8], query_text: 'x' }, /exactly one/],
    [{ vector: [1, 2, 3, 4, 5, 6, 7, 8], top_k: 0 }, /top_k must not be less than 1/],
    [{ vector: [1, 2, 3, 4, 5, 6, 7, 8], top_k: 101 }, /top_k must not be greater than 100/],
    [{ vector: [1, 2, 3, 4, 5, 6, 7, 8], top_k: 2.5 }, /top_k must be an integer/],
    [{ vector: [1, 2, 3] }, /vector has 3 dimensions; this server expects 8/],
    [{ vector: 'not a vector' }, /vector must be an array/],
    [{ query_blob: '%%%' }, /query_blob must be base64/],
    [{ query_text: '' }, /query_text must be longer than or equal to 1/],
  ])('search %j → 400 with a clear message', async (body, message) => {
    const u = await newUser(t, { tier: 'pro' });
    const res = await search(u, body).expect(400);
    expect(messageOf(res)).toMatch(message);
  });

  it('search ignores unknown fields (dropped, no 400)', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const res = await search(u, { vector: [1, 2, 3, 4, 5, 6, 7, 8], extra: true }).expect(200);
    expect(res.body).toEqual({ results: [] });
  });

  it.each([
    [{ vectors: [] }, /vectors must contain at least 1 item/],
    [
      { vectors: Array.from({ length: 501 }, (_, i) => item(`i${i}`, Buffer.from('x'))) },
      /at most 500 items/,
    ],
    [{ vectors: 'x' }, /vectors must be an array/],
  ])('upsert %#: malformed batch → 400', async (body, message) => {
    const u = await newUser(t, { tier: 'pro' });
    const res = await api().post('/api/v1/storage/vectors/upsert').set(u.auth).send(body).expect(400);
    expect(messageOf(res)).toMatch(message);
  });

  it('delete validates ids and ignores unknown ones', async () => {
    const u = await newUser(t, { tier: 'pro' });
    await remove(u, []).expect(400);
    await remove(u, 'x').expect(400);
    await remove(
      u,
      Array.from({ length: 501 }, (_, i) => `i${i}`),
    ).expect(400);
    expect((await remove(u, ['nothing']).expect(200)).body).toEqual({ ok: true, deleted: 0 });
  });

  it('query_text is embedded through the OpenAI-compatible endpoint, and stored or logged nowhere', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const text = `quarterly tax receipts ${randomBytes(6).toString('hex')}`;
    await upsert(u, [
      item('match', randomBytes(30), fakeEmbedding(text, DIMS)),
      item('other', randomBytes(30), fakeEmbedding('holiday photos', DIMS)),
    ]).expect(200);
    const before = openai.requests.length;

    const res = await search(u, { query_text: text, top_k: 2 }).expect(200);
    expect(res.body.results[0].id).toBe('match');
    expect(res.body.results[0].score).toBeCloseTo(1, 5);
    expect(openai.requests.slice(before)).toEqual([
      {
        path: '/v1/embeddings',
        model: 'text-embedding-3-small',
        authorization: `Bearer ${openai.apiKey}`,
        dimensions: DIMS,
        inputs: 1,
      },
    ]);

    // The text is in no row of any table and in no log line.
    const tables = await db.query<Array<{ tablename: string }>>(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
    );
    expect(tables.length).toBeGreaterThan(5);
    for (const { tablename } of tables) {
      const [hit] = await db.query(`SELECT count(*)::int AS n FROM "${tablename}" t WHERE t::text LIKE $1`, [
        `%${text.split(' ').pop()}%`,
      ]);
      expect({ tablename, n: hit.n }).toEqual({ tablename, n: 0 });
    }
    expect(t.logs.raw.length).toBeGreaterThan(0);
    expect(t.logs.text).not.toContain(text.split(' ').pop());
  });

  it('an embeddings provider failure → 502 naming the model, not the text', async () => {
    const u = await newUser(t, { tier: 'pro' });
    openai.failNext(400);
    const res = await search(u, { query_text: 'secret words' }).expect(502);
    expect(res.body.message).toBe('The embeddings provider answered 400 (model text-embedding-3-small)');
    openai.failNext(500, 3); // the first try and both retries
    await search(u, { query_text: 'secret words' }).expect(502);
    expect(t.logs.text).not.toContain('secret words');
  });

  it('free tier → 402 on upsert; a full quota → 402 and nothing stored; shrinking is allowed', async () => {
    const free = await newUser(t);
    const res = await upsert(free, [item('a', randomBytes(10))]).expect(402);
    expect(res.body.message).toMatch(/not included in the free tier; it needs the pro tier/);
    expect(await stored(free)).toBe(0);

    const u = await newUser(t, { tier: 'pro' });
    await upsert(u, [item('a', randomBytes(1000))]).expect(200);
    const quota = 5 * 1024 ** 3;
    // Fill the account up to 100 bytes short of its quota (records would, this is quicker).
    await db.query('UPDATE storage_usage SET used_bytes = $2 WHERE user_id = $1', [u.id, quota - 100]);
    await upsert(u, [item('b', randomBytes(60)), item('c', randomBytes(60))]).expect(402);
    expect(await stored(u)).toBe(1);
    expect(await used(u)).toBe(quota - 100);
    // Replacing 1000 bytes by 500 frees space even at the limit.
    await upsert(u, [item('a', randomBytes(500))]).expect(200);
    expect(await used(u)).toBe(quota - 600);
  });

  it('every vector route needs credentials', async () => {
    await api().post('/api/v1/storage/vectors/upsert').send({ vectors: [] }).expect(401);
    await api()
      .post('/api/v1/storage/vectors/search')
      .send({ vector: [1] })
      .expect(401);
    await api()
      .delete('/api/v1/storage/vectors')
      .send({ ids: ['a'] })
      .expect(401);
  });
});

describe('vector store without an embeddings endpoint', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ embeddedDb: true, env: { VECTOR_DIMENSIONS: String(DIMS) } });
  });
  afterAll(() => t.close());

  it('query_text → 503 saying what to configure; vector search still works', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const res = await request(t.url)
      .post('/api/v1/storage/vectors/search')
      .set(u.auth)
      .send({ query_text: 'anything' })
      .expect(503);
    expect(res.body.message).toMatch(/Text queries need an embeddings model: set OPENAI_API_KEY/);
    // A deliberate 503 is a warning with its message, not an error with a stack trace.
    const logged = t.logs.lines.find((l) => String(l.msg).includes('answered 503'));
    expect(logged).toMatchObject({ level: 'warn' });
    expect(logged).not.toHaveProperty('stack');
    await request(t.url)
      .post('/api/v1/storage/vectors/search')
      .set(u.auth)
      .send({ vector: randomVector(rng(9)) })
      .expect(200, { results: [] });
  });
});

describe('changing VECTOR_DIMENSIONS between starts', () => {
  it('builds an index for the new dimension; old items stay, found by blob but not by the new vectors', async () => {
    const db = await createTestDatabase({ embedded: true });
    try {
      const blob = randomBytes(50);
      // One secret for both starts, so the user's token stays valid.
      const JWT_SECRET = randomBytes(32).toString('hex');
      let t = await startTestApp({ db, env: { VECTOR_DIMENSIONS: '8', JWT_SECRET } });
      const u = await newUser(t, { tier: 'pro' });
      await request(t.url)
        .post('/api/v1/storage/vectors/upsert')
        .set(u.auth)
        .send({ vectors: [item('old', blob, randomVector(rng(2)))] })
        .expect(200);
      await t.close();

      t = await startTestApp({ db, env: { VECTOR_DIMENSIONS: '16', JWT_SECRET } });
      try {
        const ds = t.app.get(DataSource);
        const names = (
          await ds.query<Array<{ indexname: string }>>(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'vector_items' AND indexname LIKE '%embedding%' ORDER BY 1",
          )
        ).map((r) => r.indexname);
        expect(names).toEqual(['vector_items_embedding_16_hnsw', 'vector_items_embedding_8_hnsw']);
        const search = (body: object) =>
          request(t.url).post('/api/v1/storage/vectors/search').set(u.auth).send(body).expect(200);
        expect((await search({ vector: randomVector(rng(2), 16) })).body.results).toEqual([]);
        expect(
          (await search({ query_blob: blob.toString('base64') })).body.results.map(
            (r: { id: string }) => r.id,
          ),
        ).toEqual(['old']);
      } finally {
        await t.close();
      }
    } finally {
      await db.drop();
    }
  });
});

withServer('vector store on a PostgreSQL server without pgvector', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('the vector endpoints answer 503 naming pgvector; the rest of the app works', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const blob = randomBytes(20);
    for (const res of [
      await request(t.url)
        .post('/api/v1/storage/vectors/upsert')
        .set(u.auth)
        .send({ vectors: [item('a', blob)] }),
      await request(t.url)
        .post('/api/v1/storage/vectors/search')
        .set(u.auth)
        .send({ query_blob: blob.toString('base64') }),
      await request(t.url)
        .delete('/api/v1/storage/vectors')
        .set(u.auth)
        .send({ ids: ['a'] }),
    ]) {
      expect(res.status).toBe(503);
      expect(res.body.message).toMatch(/the database has no pgvector extension/);
    }
    await request(t.url)
      .post('/api/v1/storage/records')
      .set(u.auth)
      .send({ table: 'notes', blob: blob.toString('base64'), checksum: sha(blob) })
      .expect(201);
    await request(t.url).get('/api/v1/health').expect(200);
  });
});
