import request from 'supertest';
import { startTestApp, type TestApp } from './support/test-app.js';

type OpenApi = {
  openapi: string;
  info: { title: string; version: string };
  tags: Array<{ name: string }>;
  paths: Record<string, Record<string, { tags?: string[]; responses: Record<string, unknown> }>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
};

describe('Swagger / OpenAPI', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('serves the OpenAPI document with the bearer scheme and one declared tag per operation', async () => {
    const res = await request(t.url).get('/docs-json').expect(200);
    const doc = res.body as OpenApi;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBe('Adiuva Cloud API');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/health', '/api/v1/health/ready']),
    );

    const declared = new Set(doc.tags.map((tag) => tag.name));
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect({ op: `${method} ${path}`, tags: op.tags?.length }).toEqual({
          op: `${method} ${path}`,
          tags: 1,
        });
        expect(declared.has(op.tags![0])).toBe(true);
      }
    }
    expect(doc.paths['/api/v1/health/ready'].get.responses).toHaveProperty('503');
  });

  it('documents every operation with a response schema, and the bearer scheme on every guarded one', async () => {
    const doc = (await request(t.url).get('/docs-json').expect(200)).body as OpenApi & {
      paths: Record<
        string,
        Record<
          string,
          { security?: Array<Record<string, unknown>>; responses: Record<string, { content?: unknown }> }
        >
      >;
    };
    const publicOps = new Set([
      'get /api/v1/health',
      'get /api/v1/health/ready',
      'post /api/v1/auth/register',
      'post /api/v1/auth/login',
      'post /api/v1/auth/refresh',
      'post /api/v1/auth/logout',
      'get /api/v1/billing/tiers',
      'post /api/v1/billing/webhook',
    ]);
    const problems: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const name = `${method} ${path}`;
        const ok = Object.entries(op.responses).find(([code]) => code.startsWith('2'));
        if (!ok) problems.push(`${name}: no 2xx response`);
        else if (ok[0] !== '204' && !ok[1].content) problems.push(`${name}: 2xx without a schema`);
        const bearer = op.security?.some((s) => 'bearer' in s) ?? false;
        if (!publicOps.has(name) && !bearer) problems.push(`${name}: bearer scheme missing`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('serves the Swagger UI at /docs', async () => {
    const res = await request(t.url).get('/docs').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('swagger-ui');
  });
});

describe('Swagger in production', () => {
  const prodEnv = { ENV: 'prod', JWT_SECRET: 'x'.repeat(40) };

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
  });
});
