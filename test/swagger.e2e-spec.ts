import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import request from 'supertest';
import { startTestApp, type TestApp } from './support/test-app.js';

interface Operation {
  operationId: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: Record<string, unknown> }>;
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<
    string,
    {
      content?: Record<string, { schema: Record<string, unknown> }>;
      headers?: Record<string, unknown>;
    }
  >;
}
interface OpenApi {
  openapi: string;
  info: { title: string; version: string };
  servers: Array<{ url: string }>;
  tags: Array<{ name: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes: Record<string, { type: string; scheme?: string; name?: string; in?: string }>;
    schemas: Record<
      string,
      Record<string, unknown> & { properties?: Record<string, Record<string, unknown>> }
    >;
  };
}

const PUBLIC_OPS = [
  'getHealth',
  'getReadiness',
  'register',
  'login',
  'refresh',
  'logout',
  'listTiers',
  'handleStripeWebhook',
  'getSigningKey',
  'downloadPluginPackage',
  'uploadAttachmentContent',
  'downloadAttachmentContent',
  'downloadExport',
  'restoreAccount',
  'getTeamInvite',
];

const operations = (doc: OpenApi) =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      name: `${method.toUpperCase()} ${path}`,
      method,
      path,
      op,
    })),
  );

describe('Swagger / OpenAPI', () => {
  let t: TestApp;
  let doc: OpenApi;
  beforeAll(async () => {
    t = await startTestApp();
    doc = (await request(t.url).get('/docs-json').expect(200)).body as OpenApi;
  });
  afterAll(() => t.close());

  it('serves the document with the API base as server, both security schemes and one declared tag per operation', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBe('Adiuva Cloud API');
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/api/v1' })]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.api_key).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'X-API-Key',
    });
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/health', '/health/ready']));
    const declared = new Set(doc.tags.map((tag) => tag.name));
    for (const { name, op } of operations(doc)) {
      expect({ name, tags: op.tags?.length, declared: declared.has(op.tags?.[0] ?? '') }).toEqual({
        name,
        tags: 1,
        declared: true,
      });
    }
  });

  it('names every operation by its controller method, uniquely, and describes it', () => {
    const ids = operations(doc).map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining([
        'listRecords',
        'getRecord',
        'updateRecord',
        'uploadBackup',
        'getLatestBackup',
        'deleteBackup',
        'searchVectors',
      ]),
    );
    const problems: string[] = [];
    for (const { name, op } of operations(doc)) {
      if (
        !/^[a-z][A-Za-z]+$/.test(op.operationId) ||
        ['one', 'list', 'remove', 'live'].includes(op.operationId)
      )
        problems.push(`${name}: operationId ${op.operationId}`);
      if (!op.summary) problems.push(`${name}: no summary`);
      if (!op.description || op.description.length < 30) problems.push(`${name}: no description`);
    }
    expect(problems).toEqual([]);
  });

  it('puts both schemes on every guarded operation and none on public ones; lists 401, 429 and JSON errors', () => {
    const problems: string[] = [];
    for (const { name, op } of operations(doc)) {
      const isPublic = PUBLIC_OPS.includes(op.operationId);
      if (isPublic && op.security) problems.push(`${name}: public but has security`);
      if (!isPublic && JSON.stringify(op.security) !== JSON.stringify([{ bearer: [] }, { api_key: [] }]))
        problems.push(`${name}: security ${JSON.stringify(op.security)}`);
      if (!isPublic && !op.responses['401']) problems.push(`${name}: no 401`);
      const ok = Object.entries(op.responses).find(([code]) => code.startsWith('2'));
      if (!ok) problems.push(`${name}: no 2xx response`);
      else if (ok[0] !== '204' && !ok[1].content) problems.push(`${name}: 2xx without a schema`);
      for (const [code, response] of Object.entries(op.responses)) {
        if (!response.headers?.['X-Request-Id']) problems.push(`${name} ${code}: no X-Request-Id header`);
        if (Number(code) >= 400) {
          const types = Object.keys(response.content ?? {});
          if (types.join() !== 'application/json') problems.push(`${name} ${code}: error as ${types.join()}`);
        }
      }
      if (!['getHealth', 'getReadiness', 'handleStripeWebhook'].includes(op.operationId)) {
        if (!op.responses['429']?.headers?.['Retry-After']) problems.push(`${name}: no 429 with Retry-After`);
        if (!ok?.[1].headers?.['RateLimit-Remaining']) problems.push(`${name}: no RateLimit-* headers`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('has no duplicate header parameters, whatever their case, and Range is optional', () => {
    const problems: string[] = [];
    for (const { name, op } of operations(doc)) {
      const headers = (op.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name.toLowerCase());
      if (new Set(headers).size !== headers.length) problems.push(`${name}: ${headers.join(', ')}`);
    }
    expect(problems).toEqual([]);
    const range = doc.paths['/backup'].get.parameters!.find((p) => p.name === 'Range');
    expect(range).toMatchObject({ in: 'header', required: false });
    const ifMatch = doc.paths['/storage/records/{id}'].put.parameters!.find((p) => p.in === 'header');
    expect(ifMatch).toMatchObject({ name: 'If-Match', required: false });
  });

  it('documents the binary routes: raw upload body, 206/304, backup and record response headers', () => {
    const upload = doc.paths['/backup'].put;
    expect(upload.requestBody!.content['application/octet-stream'].schema).toEqual({
      type: 'string',
      format: 'binary',
    });
    const latest = doc.paths['/backup'].get;
    expect(Object.keys(latest.responses)).toEqual(
      expect.arrayContaining(['200', '206', '304', '404', '416']),
    );
    expect(Object.keys(latest.responses['200'].content!)).toEqual(['application/octet-stream']);
    expect(Object.keys(latest.responses['200'].headers!)).toEqual(
      expect.arrayContaining([
        'X-Backup-Version',
        'X-Backup-Timestamp',
        'X-Backup-Checksum',
        'Last-Modified',
      ]),
    );
    expect(latest.responses['206'].headers).toHaveProperty('Content-Range');
    expect(Object.keys(doc.paths['/storage/records/{id}'].get.responses['200'].headers!)).toEqual(
      expect.arrayContaining(['X-Checksum', 'ETag']),
    );
    expect(Object.keys(doc.paths['/storage/records'].get.responses['200'].headers!)).toEqual(
      expect.arrayContaining(['X-Total-Count', 'Link']),
    );
  });

  it('documents errors with the code enum, the 409 body, the search oneOf and enforced constraints', () => {
    const { schemas } = doc.components;
    expect(schemas.ErrorResponseDto.properties!.code).toMatchObject({
      allOf: [{ $ref: '#/components/schemas/ErrorCode' }],
    });
    expect(schemas.ErrorCode.enum).toEqual(
      expect.arrayContaining(['validation_failed', 'quota_exceeded', 'version_conflict', 'rate_limited']),
    );
    const conflict = doc.paths['/storage/records/{id}'].put.responses['409'].content!['application/json'];
    expect(conflict.schema).toEqual({ $ref: '#/components/schemas/VersionConflictErrorDto' });
    expect(Object.keys(schemas.VersionConflictErrorDto.properties!)).toEqual(
      expect.arrayContaining(['code', 'current_version', 'checksum']),
    );
    expect(doc.paths['/backup'].put.responses['402']).toBeDefined();
    expect(doc.paths['/backup'].put.responses['413']).toBeUndefined();

    const search = doc.paths['/storage/vectors/search'].post.requestBody!.content['application/json'].schema;
    expect(search).toEqual({
      oneOf: [
        { $ref: '#/components/schemas/SearchByBlobDto' },
        { $ref: '#/components/schemas/SearchByVectorDto' },
        { $ref: '#/components/schemas/SearchByTextDto' },
      ],
    });
    expect(schemas.AdminUserDto.properties!.tier_override).toMatchObject({ nullable: true });
    expect(schemas.AdminUserDto.properties!.tier_override.enum).toContain(null);
    expect(schemas.AdminUserDto.properties!.tier.enum).not.toContain(null);

    const table = doc.paths['/storage/records'].get.parameters!.find((p) => p.name === 'table');
    expect(table!.schema).toMatchObject({ pattern: '^[a-z][a-z0-9_]{0,62}$' });
    const id = doc.paths['/storage/records/{id}'].get.parameters!.find((p) => p.name === 'id');
    expect(id!.schema).toMatchObject({ format: 'uuid' });
  });

  it('serves the Swagger UI at /docs', async () => {
    const res = await request(t.url).get('/docs').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('swagger-ui');
  });
});

describe('the committed openapi.json', () => {
  // The built generator, as `npm run openapi:check` runs it: the document of `nest build` (with the
  // Swagger plugin's class-validator constraints), which ts-jest's transpile-only mode cannot apply.
  it('is the document the built code produces, and spectral:oas finds nothing in it', async () => {
    const cli = 'dist/src/cli/openapi.js';
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` (npm test does) first`);
    const check = await run(process.execPath, [cli, '--check']);
    expect(check).toEqual({ status: 0, stdout: 'openapi.json matches the code\n', stderr: '' });

    const lint = await run(process.execPath, [
      'node_modules/@stoplight/spectral-cli/dist/index.js',
      'lint',
      '--fail-severity=hint',
      'openapi.json',
    ]);
    expect({ status: lint.status, out: lint.stdout.trim() }).toEqual({
      status: 0,
      out: expect.stringMatching(/No results with a severity of 'hint' or higher found!$/),
    });
    const committed = JSON.parse(readFileSync('openapi.json', 'utf8')) as OpenApi;
    expect(Object.keys(committed.paths)).toEqual([...Object.keys(committed.paths)].sort());
  });
});

/** A child process, without blocking this worker's event loop. */
function run(file: string, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('Swagger in production', () => {
  const prodEnv = { ENV: 'prod', JWT_SECRET: 'x'.repeat(40), PUBLIC_URL: 'https://api.example.test' };

  // Two app starts on fresh databases: on a loaded CI machine that takes more than Jest's 60 s default.
  it('is hidden unless SWAGGER_ENABLED=true', async () => {
    const hidden = await startTestApp({ env: prodEnv });
    try {
      await request(hidden.url).get('/docs-json').expect(404);
      await request(hidden.url).get('/docs').expect(404);
    } finally {
      await hidden.close();
    }
    const shown = await startTestApp({ env: { ...prodEnv, SWAGGER_ENABLED: 'true' } });
    try {
      await request(shown.url).get('/docs-json').expect(200);
    } finally {
      await shown.close();
    }
  }, 180_000);
});
