import { getMetadataStorage } from 'class-validator';
import { createHash, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { MAX_JSON_DEPTH } from '../src/common/input/input-limits.js';
import { FakeOpenAi } from './support/fake-openai.js';
import { FakeStripe } from './support/fake-stripe.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';

/**
 * Bad input answers 4xx, never 5xx, on every documented operation. The sweep
 * reads the OpenAPI document, so a new route is covered the day it lands; the
 * precise tests below pin each cause an API fuzzer once turned into a 500.
 */

const DIMS = 8;
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
/** JSON text nested `depth` levels deep: 3 KB at 1,500 levels overflowed class-transformer's stack. */
const deepJson = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepValue = (depth: number): unknown => JSON.parse(deepJson(depth));

// ---------------------------------------------------------------- the OpenAPI document, minimally typed
interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  example?: unknown;
  pattern?: string;
  minimum?: number;
  minItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  allOf?: Schema[];
  oneOf?: Schema[];
  nullable?: boolean;
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  security?: unknown[];
}
interface OpenApi {
  servers?: Array<{ url: string }>;
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

interface Op {
  method: string;
  /** The document's template, /api/v1/storage/records/{id} */
  path: string;
  params: Parameter[];
  jsonBody?: Schema;
  binaryBody: boolean;
  isPublic: boolean;
}

/** A request of the sweep: one bad value in one place, everything else plausible. */
interface Probe {
  op: Op;
  where: string;
  label: string;
  path: string;
  query: Array<[string, string]>;
  headers: Record<string, string>;
  /** JSON text, or raw bytes for binary bodies. */
  body?: string | Buffer;
  contentType?: string;
}

/** Values a string can carry in a URL (already percent-encoded) or a header. */
const BAD_STRINGS: Array<[label: string, encoded: string]> = [
  ['NUL', 'a%00b'],
  ['lone surrogate (CESU-8 bytes)', 'x%ED%A0%80y'],
  ['invalid percent-encoding', '%E0%A4%A'],
  ['long string (8k)', 'x'.repeat(8_000)],
  ['very long string (100k)', 'x'.repeat(100_000)],
  ['1e20', '1e20'],
  ['1e308', '1e308'],
  ['-1', '-1'],
  ['0', '0'],
  ['1.5', '1.5'],
  ['NaN', 'NaN'],
  ['Infinity', 'Infinity'],
  ['empty', ''],
  ['JSON array text', '%5B%5D'],
  ['JSON object text', '%7B%22a%22%3A1%7D'],
];
/** Header values fetch can send (no NUL, no CR/LF, Latin-1 only). */
const BAD_HEADERS: Array<[label: string, value: string]> = [
  ['long string (8k)', 'x'.repeat(8_000)],
  ['very long string (100k)', 'x'.repeat(100_000)],
  ['1e20', '1e20'],
  ['1e308', '1e308'],
  ['-1', '-1'],
  ['0', '0'],
  ['empty', ''],
  ['JSON array text', '[]'],
  ['Latin-1', 'ÿþ'],
  ['bytes=-', 'bytes=-'],
];
const BAD_JSON: Array<[label: string, value: unknown]> = [
  ['NUL', 'a\u0000b'],
  ['lone surrogate', 'x\ud800y'],
  ['very long string (100k)', 'x'.repeat(100_000)],
  ['1e20', 1e20],
  ['1e308', 1e308],
  ['-1', -1],
  ['0', 0],
  ['1.5', 1.5],
  ['number as string', '1e20'],
  ['true', true],
  ['null', null],
  ['array of strings', ['a']],
  ['array of arrays', [[]]],
  ['array of numbers', [1e308]],
  ['object', { a: 1 }],
  ['deep JSON', deepValue(1_500)],
];

function resolve(doc: OpenApi, schema: Schema | undefined): Schema {
  let s = schema ?? {};
  for (let i = 0; s.$ref && i < 10; i++) s = doc.components?.schemas?.[s.$ref.split('/').pop()!] ?? {};
  if (s.allOf) return s.allOf.reduce<Schema>((acc, part) => ({ ...acc, ...resolve(doc, part) }), {});
  return s;
}

/** A value the schema would accept, as far as a schema can say (bodies fill in checksums after). */
function plausible(doc: OpenApi, schema: Schema | undefined, name: string): unknown {
  const s = resolve(doc, schema);
  // A fresh account per probe: one shared example address would hit the per-account sign-in limit.
  if (name === 'email') return `sweep-${randomUUID().slice(0, 8)}@example.com`;
  if (s.example !== undefined) return s.example;
  if (s.enum?.length) return s.enum.find((v) => v !== null);
  switch (s.type) {
    case 'integer':
    case 'number':
      return Math.max(1, s.minimum ?? 1);
    case 'boolean':
      return false;
    case 'array':
      return name === 'vector' || resolve(doc, s.items).type === 'number'
        ? Array.from({ length: DIMS }, (_, i) => i + 1)
        : [plausible(doc, s.items, name)];
    case 'object':
      return plausibleObject(doc, s);
    case undefined:
    default:
      if (s.properties) return plausibleObject(doc, s);
      if (s.format === 'uuid' || name === 'id') return randomUUID();
      if (s.format === 'byte') return Buffer.from('hello').toString('base64');
      if (/checksum/i.test(name)) return sha256('hello');
      if (/password/.test(name)) return 'correct horse battery staple';
      return 'abc';
  }
}

/** The required properties only: one optional field sent alone can change which rule applies. */
function plausibleObject(doc: OpenApi, schema: Schema): Record<string, unknown> {
  const s = resolve(doc, schema);
  const required = new Set(s.required ?? []);
  return Object.fromEntries(
    Object.entries(s.properties ?? {})
      .filter(([k]) => required.has(k))
      .map(([k, v]) => [k, plausible(doc, v, k)]),
  );
}

/** Every place in a body a value can go: top-level properties, and the properties of nested objects. */
function bodyFields(doc: OpenApi, schema: Schema, prefix: string[] = [], depth = 0): string[][] {
  const s = resolve(doc, schema);
  const fields: string[][] = [];
  for (const [name, prop] of Object.entries(s.properties ?? {})) {
    const path = [...prefix, name];
    fields.push(path);
    const p = resolve(doc, prop);
    if (depth > 1) continue;
    if (p.type === 'array' && resolve(doc, p.items).properties)
      fields.push(...bodyFields(doc, p.items!, [...path, '0'], depth + 1));
    else if (p.properties) fields.push(...bodyFields(doc, p, path, depth + 1));
  }
  return fields;
}

function withValue(
  base: Record<string, unknown>,
  doc: OpenApi,
  schema: Schema,
  path: string[],
  value: unknown,
) {
  const body = structuredClone(base);
  let node: Record<string, unknown> = body;
  let s = resolve(doc, schema);
  for (const key of path.slice(0, -1)) {
    if (/^\d+$/.test(key)) {
      const list = node as unknown as unknown[];
      list[Number(key)] ??= plausibleObject(doc, s);
      node = list[Number(key)] as Record<string, unknown>;
      continue;
    }
    const prop = resolve(doc, s.properties?.[key]);
    node[key] ??= prop.type === 'array' ? [] : plausibleObject(doc, prop);
    node = node[key] as Record<string, unknown>;
    s = prop.type === 'array' ? resolve(doc, prop.items) : prop;
  }
  node[path[path.length - 1]] = value;
  return body;
}

function operations(doc: OpenApi): Op[] {
  const ops: Op[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const content = op.requestBody?.content ?? {};
      ops.push({
        method: method.toUpperCase(),
        path,
        params: op.parameters ?? [],
        jsonBody: content['application/json']?.schema,
        binaryBody: 'application/octet-stream' in content || (method === 'put' && /\/backup$/.test(path)),
        isPublic: !op.security || op.security.length === 0,
      });
    }
  }
  return ops;
}

/** Every probe for one operation: each bad value in each path/query parameter, header and body field. */
function probesFor(doc: OpenApi, op: Op): Probe[] {
  const binary = Buffer.from('hello');
  const baseParams = (except?: string) => {
    let path = op.path;
    const query: Array<[string, string]> = [];
    const headers: Record<string, string> = {};
    for (const p of op.params) {
      if (p.name === except) continue;
      const value = /checksum/i.test(p.name)
        ? sha256(binary)
        : /^(if-match|x-backup-version|x-backup-timestamp)$/i.test(p.name)
          ? '1'
          : p.name.toLowerCase() === 'range'
            ? 'bytes=0-1'
            : String(plausible(doc, p.schema, p.name));
      if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(value));
      else if (p.in === 'query' && p.required) query.push([p.name, value]);
      else if (p.in === 'header' && p.required) headers[p.name] = value;
    }
    return { path, query, headers };
  };
  // Fresh each time: a shared email would hit the per-account sign-in limit.
  const baseBody = () => plausibleObject(doc, op.jsonBody!);
  const body = (value?: Record<string, unknown>) =>
    op.jsonBody
      ? { body: JSON.stringify(value ?? baseBody()), contentType: 'application/json' }
      : op.binaryBody
        ? { body: binary, contentType: 'application/octet-stream' }
        : {};
  const probes: Probe[] = [];
  const add = (where: string, label: string, p: Omit<Probe, 'op' | 'where' | 'label'>) =>
    probes.push({ op, where, label, ...p });

  add('(plausible request)', 'none', { ...baseParams(), ...body() });
  for (const param of op.params) {
    if (param.in === 'cookie') continue;
    const base = baseParams(param.name);
    if (param.in === 'header') {
      for (const [label, value] of BAD_HEADERS)
        add(`header ${param.name}`, label, {
          ...base,
          headers: { ...base.headers, [param.name]: value },
          ...body(),
        });
      continue;
    }
    for (const [label, encoded] of BAD_STRINGS) {
      if (param.in === 'path') {
        if (encoded === '') continue; // an empty segment is another route
        add(`path ${param.name}`, label, {
          ...base,
          path: op.path.replace(`{${param.name}}`, encoded),
          ...body(),
        });
      } else {
        add(`query ${param.name}`, label, {
          ...base,
          query: [...base.query, [param.name, encoded]],
          ...body(),
        });
      }
    }
    if (param.in === 'query') {
      add(`query ${param.name}`, 'repeated', {
        ...base,
        query: [...base.query, [param.name, '1'], [param.name, '2']],
        ...body(),
      });
    }
  }
  if (op.jsonBody) {
    const base = baseParams();
    for (const field of bodyFields(doc, op.jsonBody)) {
      for (const [label, value] of BAD_JSON) {
        add(`body ${field.join('.')}`, label, {
          ...base,
          ...body(withValue(baseBody(), doc, op.jsonBody, field, value)),
        });
      }
    }
    for (const [label, text] of [
      ['deep JSON body (1,500 levels)', deepJson(1_500)],
      ['deep JSON in a field (1,500 levels)', `{"x":${deepJson(1_500)}}`],
      ['array body', '[]'],
      ['array of arrays body', '[[]]'],
      ['empty object body', '{}'],
      ['NUL in a key', '{"a\\u0000":1}'],
      [
        '30k keys',
        JSON.stringify(Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`k${i}`, 1]))),
      ],
    ] as const) {
      add('body', label, { ...base, body: text, contentType: 'application/json' });
    }
  }
  return probes;
}

/**
 * The sweep's accounts: highest tier, admin role, and a password other than the plausible one
 * the probes send, so a plausible DELETE /account {password} is refused (401) instead of
 * disabling the account the rest of the suite signs in with.
 */
const SWEEP_USER = { tier: 'team', role: 'admin', password: 'the sweep accounts own password' } as const;

/** Sign-in attempts per account and minute in this suite's app (the default is 10). */
const AUTH_LIMIT_PER_ACCOUNT = 40;
describe('bad input never reaches a 5xx', () => {
  let t: TestApp;
  let db: DataSource;
  const stripe = new FakeStripe();
  let openai: FakeOpenAi;
  let admin: TestUser;
  let ip = 0;
  /** A client address of its own per request (TRUST_PROXY): the sweep measures validation, not the limiter. */
  const nextIp = () => {
    ip++;
    return `10.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip & 255}`;
  };

  beforeAll(async () => {
    await stripe.start();
    openai = await new FakeOpenAi().start();
    // A provider that always answers, so a valid chat request is a 200 and only bad input is refused.
    openai.fallback = () => ({ content: 'task_agent' });
    t = await startTestApp({
      embeddedDb: true,
      env: {
        VECTOR_DIMENSIONS: String(DIMS),
        STRIPE_SECRET_KEY: FakeStripe.SECRET_KEY,
        STRIPE_WEBHOOK_SECRET: 'whsec_test_bad_input',
        STRIPE_API_URL: stripe.url,
        ...openai.env,
        TRUST_PROXY: 'true',
        // The sweep sends far more bad submissions than an hour's allowance: here only their answers matter.
        PLUGIN_SUBMISSIONS_PER_HOUR: '10000',
        // Each probed email value reaches every sign-in route (register, login, SSO, restore), with
        // and without credentials: more than the default 10 per account. The limit still holds (below).
        AUTH_RATE_LIMIT_PER_ACCOUNT: String(AUTH_LIMIT_PER_ACCOUNT),
        // GitHub sign-in configured (never reached: the probes fail validation or the state check
        // first), so its routes answer the input, not 503 feature_not_configured.
        GITHUB_CLIENT_ID: 'bad-input-client',
        GITHUB_CLIENT_SECRET: 'bad-input-secret',
        GITHUB_BASE_URL: 'http://127.0.0.1:9',
        GITHUB_API_URL: 'http://127.0.0.1:9',
      },
    });
    db = t.app.get(DataSource);
    admin = await newUser(t, SWEEP_USER);
  });
  afterAll(async () => {
    await t?.close();
    await stripe.stop();
    await openai?.stop();
  });

  const count = async (table: string) =>
    Number((await db.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n);
  const expectValidationError = (res: request.Response, message: RegExp) => {
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      code: 'validation_failed',
      message: expect.anything(),
      request_id: expect.any(String),
    });
    expect(([] as string[]).concat(res.body.message).join('\n')).toMatch(message);
  };

  describe('sweep of every documented operation', () => {
    it('answers every probe (path, query, header and body values) with a non-5xx status', async () => {
      const doc = (await request(t.url).get('/docs-json').expect(200)).body as OpenApi;
      const ops = operations(doc);
      expect(ops.length).toBeGreaterThan(30);
      // Paths in the document are relative to its server (/api/v1).
      const base = doc.servers?.[0]?.url ?? '';
      expect(base).toBe('/api/v1');
      const probes = ops.flatMap((op) => probesFor(doc, op));
      // Authenticated as the highest tier (and admin role); the tier limit is per principal, so
      // the probes are spread over enough team accounts to stay under 200 a minute each.
      const perUser = 150;
      const users = [admin];
      while (users.length * perUser < probes.length) users.push(await newUser(t, SWEEP_USER));
      const runs = [
        ...probes.map((p, i) => ({ probe: p, auth: users[Math.floor(i / perUser)].auth })),
        ...probes.filter((p) => p.op.isPublic).map((p) => ({ probe: p, auth: undefined })),
      ];

      const failures: string[] = [];
      const statuses = new Map<number, number>();
      let next = 0;
      const worker = async () => {
        while (next < runs.length) {
          const { probe, auth } = runs[next++];
          const qs = probe.query.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&');
          const url = `${t.url}${base}${probe.path}${qs ? `?${qs}` : ''}`;
          let status = 0;
          try {
            // A submission that reaches the checks queue while the account already has its share
            // there is 429 with a short Retry-After: retried as a client would, so its input is judged.
            for (let attempt = 0; attempt < 4; attempt++) {
              const res = await fetch(url, {
                method: probe.op.method,
                headers: {
                  ...(probe.contentType ? { 'Content-Type': probe.contentType } : {}),
                  ...(auth ?? {}),
                  'X-Forwarded-For': nextIp(),
                  ...probe.headers,
                },
                body: probe.body,
              });
              await res.arrayBuffer();
              status = res.status;
              const wait = Number(res.headers.get('retry-after'));
              if (status !== 429 || !(wait > 0 && wait <= 5)) break;
              await new Promise((r) => setTimeout(r, wait * 1000));
            }
          } catch (err) {
            failures.push(`${describeProbe(probe, auth)}: no answer (${(err as Error).message})`);
            continue;
          }
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status >= 500 || status === 429) failures.push(`${describeProbe(probe, auth)} → ${status}`);
        }
      };
      await Promise.all(Array.from({ length: 6 }, worker));
      // Enough to see what the sweep did when it passes: `statuses` in the failure output.
      expect({ failures, requests: runs.length }).toEqual({ failures: [], requests: runs.length });
      expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
      // The probes reached the routes: most are refused by validation, not by a missing route.
      expect(statuses.get(404) ?? 0).toBeLessThan(runs.length / 4);
      expect(statuses.get(400) ?? 0).toBeGreaterThan(runs.length / 4);
    }, 120_000);

    it('declares every nested DTO property as objects, not just @ValidateNested (which lets [[]] through)', () => {
      const storage = getMetadataStorage() as unknown as {
        validationMetadatas: Map<
          unknown,
          Array<{ type: string; name?: string; propertyName: string; target: unknown }>
        >;
      };
      const all = [...storage.validationMetadatas.values()].flat();
      const nested = all.filter((m) => m.type === 'nestedValidation');
      expect(nested.length).toBeGreaterThan(0);
      const unchecked = nested
        .filter(
          (n) =>
            !all.some(
              (m) => m.target === n.target && m.propertyName === n.propertyName && m.name === 'isObject',
            ),
        )
        .map((n) => `${(n.target as { name?: string }).name}.${n.propertyName}`);
      expect(unchecked).toEqual([]);
    });
  });

  describe('1. JSON nested deeper than the limit', () => {
    it.each([
      ['/api/v1/auth/login', undefined],
      ['/api/v1/auth/register', undefined],
      ['/api/v1/storage/records', 'auth'],
      ['/api/v1/storage/vectors/upsert', 'auth'],
    ])(
      'POST %s: 1,500 levels (3 KB) → 400 before any authentication or transformation',
      async (path, auth) => {
        const users = await count('users');
        for (const text of [deepJson(1_500), `{"email":${deepJson(1_500)},"password":"x"}`]) {
          const res = await request(t.url)
            .post(path)
            .set(auth ? admin.auth : {})
            .set('Content-Type', 'application/json')
            .send(text);
          expectValidationError(res, new RegExp(`nested deeper than ${MAX_JSON_DEPTH} levels`));
        }
        expect(await count('users')).toBe(users);
      },
    );

    it(`accepts ${MAX_JSON_DEPTH} levels (the limit) and names the field where it was exceeded`, async () => {
      const ok = await request(t.url)
        .post('/api/v1/auth/login')
        .set('Content-Type', 'application/json')
        .send(`{"email":"nobody@example.com","password":"x","extra":${deepJson(MAX_JSON_DEPTH - 1)}}`);
      expect(ok.status).toBe(401);
      const res = await request(t.url)
        .post('/api/v1/auth/login')
        .set('Content-Type', 'application/json')
        .send(`{"email":"nobody@example.com","password":"x","extra":${deepJson(MAX_JSON_DEPTH)}}`);
      expectValidationError(res, /^body is nested deeper than 64 levels \(at extra\[0\]\[0\]/);
    });

    it('accepts a big base64 record (4 MiB) under the same limits', async () => {
      const bytes = Buffer.alloc(4 * 1024 * 1024, 7);
      const res = await request(t.url)
        .post('/api/v1/storage/records')
        .set(admin.auth)
        .send({ table: 'big', blob: bytes.toString('base64'), checksum: sha256(bytes) });
      // On failure, show the server's errors (the body of a 500 says nothing by design).
      const errors =
        res.status === 201
          ? []
          : t.logs.lines.filter((l) => l.level === 'error' || l.level === 'warn').slice(-5);
      expect({ status: res.status, errors }).toEqual({ status: 201, errors: [] });
    });
  });

  describe('2 and 3. NUL and unpaired surrogates in any text', () => {
    const api = () => request(t.url);
    const fresh = () => `text-${randomUUID().slice(0, 8)}@example.com`;

    it.each([
      ['NUL', 'lap\u0000top', /device_name must not contain NUL \(U\+0000\) characters/],
      ['a lone surrogate', 'lap\ud800top', /device_name must be valid Unicode text/],
    ])('register with %s in device_name → 400 naming it; no account', async (_label, name, message) => {
      const users = await count('users');
      const res = await api()
        .post('/api/v1/auth/register')
        .send({ email: fresh(), password: 'correct horse battery staple', device_name: name });
      expectValidationError(res, message);
      expect(await count('users')).toBe(users);
    });

    it.each(['register', 'login'])(
      '%s with a lone surrogate in the email → 400 naming email',
      async (route) => {
        const users = await count('users');
        const res = await api()
          .post(`/api/v1/auth/${route}`)
          .send({ email: 'ada\udc00@example.com', password: 'correct horse battery staple' });
        expectValidationError(res, /^email must be valid Unicode text/);
        expect(await count('users')).toBe(users);
      },
    );

    it.each([
      ['NUL', 'ci\u0000job', /^name must not contain NUL/],
      ['a lone surrogate', 'ci\ud83djob', /^name must be valid Unicode text/],
    ])('API key with %s in its name → 400; no key stored', async (_label, name, message) => {
      const keys = await count('api_keys');
      expectValidationError(
        await api().post('/api/v1/auth/api-keys').set(admin.auth).send({ name }),
        message,
      );
      expect(await count('api_keys')).toBe(keys);
    });

    it.each([
      ['NUL', 'phone\u0000', /^name must not contain NUL/],
      ['a lone surrogate', 'phone\udfff', /^name must be valid Unicode text/],
    ])('device with %s in its name → 400; nothing stored (no U+FFFD)', async (_label, name, message) => {
      const devices = await count('devices');
      const res = await api().put('/api/v1/storage/devices/phone-1').set(admin.auth).send({ name });
      expectValidationError(res, message);
      expect(await count('devices')).toBe(devices);
    });

    it('names nested fields: vectors[0].id', async () => {
      const res = await api()
        .post('/api/v1/storage/vectors/upsert')
        .set(admin.auth)
        .send({ vectors: [{ id: 'a\u0000', blob: 'aGVsbG8=', checksum: sha256('hello') }] });
      expectValidationError(res, /^vectors\[0\]\.id must not contain NUL/);
    });

    it('checks query parameters: GET /admin/users?email=%00 → 400 naming email', async () => {
      expectValidationError(
        await api().get('/api/v1/admin/users?email=%00').set(admin.auth),
        /^email must not contain NUL/,
      );
    });

    it('checks path parameters: PUT /storage/devices/a%00b → 400 naming device_id; nothing stored', async () => {
      const devices = await count('devices');
      const res = await api().put('/api/v1/storage/devices/a%00b').set(admin.auth).send({ name: 'x' });
      expectValidationError(res, /^device_id must not contain NUL/);
      expect(await count('devices')).toBe(devices);
    });

    it('refuses a NUL in a header value (X-Device-Id) with 400 at the HTTP parser', async () => {
      const { port } = new URL(t.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            `GET /api/v1/storage/changes HTTP/1.1\r\nHost: x\r\n${admin.auth.Authorization ? `Authorization: ${admin.auth.Authorization}\r\n` : ''}X-Device-Id: a\u0000b\r\nConnection: close\r\n\r\n`,
          );
        });
        let data = '';
        socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    });
  });

  describe('4. paging: bounded integers, bound SQL parameters', () => {
    const lists = [
      '/api/v1/admin/audit',
      '/api/v1/storage/conflicts',
      '/api/v1/admin/users',
      '/api/v1/storage/records',
    ];

    it.each(lists)('GET %s?page=1e20 → 400 naming page', async (path) => {
      const res = await request(t.url).get(`${path}?page=1e20`).set(admin.auth);
      expectValidationError(res, /^page must not be greater than/m);
    });

    it.each(lists)('GET %s with zero, negative or non-integer paging → 400', async (path) => {
      for (const q of ['page=0', 'page=-1', 'page=1.5', 'limit=0', 'limit=-5', 'limit=1e308', 'page=NaN']) {
        const res = await request(t.url).get(`${path}?${q}`).set(admin.auth);
        expectValidationError(res, new RegExp(`^${q.split('=')[0]} `, 'm'));
      }
    });

    it('caps the offset: (page - 1) × limit up to 100000 is served, one page more is 400', async () => {
      await request(t.url).get('/api/v1/admin/audit?page=1001&limit=100').set(admin.auth).expect(200);
      const res = await request(t.url).get('/api/v1/admin/audit?page=1002&limit=100').set(admin.auth);
      expectValidationError(res, /^page × limit must stay within the first 100000 items/m);
      // The records list's own limit (up to 500) counts.
      await request(t.url).get('/api/v1/storage/records?page=201&limit=500').set(admin.auth).expect(200);
      expectValidationError(
        await request(t.url).get('/api/v1/storage/records?page=202&limit=500').set(admin.auth),
        /^page × limit/m,
      );
    });

    it('pages the audit log with bound parameters (filter, page and limit)', async () => {
      const all = await request(t.url).get('/api/v1/admin/audit?limit=100').set(admin.auth).expect(200);
      expect(all.body.total).toBeGreaterThan(1);
      const second = await request(t.url)
        .get('/api/v1/admin/audit?limit=1&page=2')
        .set(admin.auth)
        .expect(200);
      expect(second.body).toMatchObject({ page: 2, limit: 1, total: all.body.total });
      expect(second.body.items).toEqual([all.body.items[1]]);
      const filtered = await request(t.url)
        .get('/api/v1/admin/audit?event_type=auth.register')
        .set(admin.auth)
        .expect(200);
      expect(filtered.body.items.length).toBeGreaterThan(0);
      expect(filtered.body.items.every((e: { event_type: string }) => e.event_type === 'auth.register')).toBe(
        true,
      );
    });
  });

  describe('5. nested items must be objects', () => {
    it.each([
      ['[[]]', [[]]],
      ['[1]', [1]],
      ['["x"]', ['x']],
      ['[null]', [null]],
    ])(
      'POST /storage/vectors/upsert {"vectors": %s} → 400 naming vectors; nothing stored',
      async (_l, vectors) => {
        const items = await count('vector_items');
        const res = await request(t.url)
          .post('/api/v1/storage/vectors/upsert')
          .set(admin.auth)
          .send({ vectors });
        expectValidationError(res, /each value in vectors must be an object/);
        expect(await count('vector_items')).toBe(items);
      },
    );

    it('treats null in an optional field as absent (defaults restored), never as a value', async () => {
      const res = await request(t.url)
        .post('/api/v1/storage/vectors/search')
        .set(admin.auth)
        .send({ query_blob: null, query_text: null, vector: [1, 2, 3, 4, 5, 6, 7, 8], top_k: null });
      expect(res.status).toBe(200);
      expectValidationError(
        await request(t.url)
          .post('/api/v1/storage/vectors/search')
          .set(admin.auth)
          .send({ query_blob: null }),
        /exactly one of query_blob, vector or query_text/,
      );
    });
  });

  describe('6. sign-in rate limit keys', () => {
    it('does not count malformed sign-in bodies against one shared account key', async () => {
      // 10 per account per 15 minutes is the limit; 15 bodies naming no account stay 400.
      const bodies = [
        { email: 123, password: 'x' },
        { email: ['a@example.com'], password: 'x' },
        { email: { a: 1 }, password: 'x' },
        { password: 'x' },
        { email: null, password: 'x' },
      ];
      for (let i = 0; i < 15; i++) {
        const res = await request(t.url)
          .post('/api/v1/auth/login')
          .set('X-Forwarded-For', nextIp())
          .send(bodies[i % bodies.length]);
        expect(res.status).toBe(400);
      }
      for (let i = 0; i < 12; i++) {
        const res = await request(t.url)
          .post('/api/v1/auth/refresh')
          .set('X-Forwarded-For', nextIp())
          .send({ refresh_token: i % 2 ? 5 : ['t'] });
        expect(res.status).toBe(400);
      }
      // A well-formed sign-in still gets through after them.
      const u = await newUser(t);
      await request(t.url)
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', nextIp())
        .send({ email: u.email, password: u.password })
        .expect(200);
    });

    it('still limits a real account: the attempt past the limit on one email is 429', async () => {
      const email = `limited-${randomUUID().slice(0, 8)}@example.com`;
      for (let i = 0; i < AUTH_LIMIT_PER_ACCOUNT; i++) {
        const res = await request(t.url)
          .post('/api/v1/auth/login')
          .set('X-Forwarded-For', nextIp())
          .send({ email, password: 'wrong password!!' });
        expect(res.status).toBe(401);
      }
      await request(t.url)
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', nextIp())
        .send({ email, password: 'wrong password!!' })
        .expect(429);
    });
  });

  function describeProbe(p: Probe, auth: unknown): string {
    return `${p.op.method} ${p.op.path} ${p.where} = ${p.label}${auth ? '' : ' (unauthenticated)'}`;
  }
});
