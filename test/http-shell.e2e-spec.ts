import request from 'supertest';
import { ProbeModule } from './support/probe.module.js';
import { startTestApp, type TestApp } from './support/test-app.js';

describe('HTTP shell: errors, validation, limits, headers, logs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ extraModules: [ProbeModule] });
  });
  afterAll(() => t.close());

  const errorShape = (status: number, error: string, code = 'validation_failed') => ({
    code,
    statusCode: status,
    error,
    message: expect.anything(),
    request_id: expect.any(String),
  });

  it('accepts a valid body and transforms it to the DTO types', async () => {
    const res = await request(t.url).post('/api/v1/probe/echo').send({ name: 'ada', count: '3' }).expect(201);
    expect(res.body).toEqual({ name: 'ada', count: 3, count_type: 'number', keys: ['name', 'count'] });
  });

  it('rejects invalid fields with 400 and a list of messages a client can act on', async () => {
    const res = await request(t.url).post('/api/v1/probe/echo').send({ name: '', count: 0 }).expect(400);
    expect(res.body).toEqual(errorShape(400, 'Bad Request'));
    expect(res.body.message).toEqual(
      expect.arrayContaining([
        'name must be longer than or equal to 1 characters',
        'count must not be less than 1',
      ]),
    );
    expect(res.body.request_id).toBe(res.headers['x-request-id']);
  });

  it('ignores unknown fields: the handler sees only DTO fields (whitelist, no 400)', async () => {
    const res = await request(t.url)
      .post('/api/v1/probe/echo')
      .send({ name: 'ada', count: 1, is_admin: true })
      .expect(201);
    expect(res.body).toEqual({ name: 'ada', count: 1, count_type: 'number', keys: ['name', 'count'] });
  });

  it('answers malformed JSON with 400, never 500', async () => {
    const res = await request(t.url)
      .post('/api/v1/probe/echo')
      .set('Content-Type', 'application/json')
      .send('{"name": "ada", ')
      .expect(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      code: 'malformed_json',
      message: 'Malformed JSON in request body',
      request_id: res.headers['x-request-id'],
    });
  });

  it('answers a JSON body over 1 MiB with 413 and accepts one just under', async () => {
    const big = JSON.stringify({ name: 'ada', count: 1, pad: 'x'.repeat(1024 * 1024) });
    const res = await request(t.url)
      .post('/api/v1/probe/echo')
      .set('Content-Type', 'application/json')
      .send(big)
      .expect(413);
    expect(res.body).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      code: 'payload_too_large',
      message: 'Request body exceeds the limit of 1 MiB',
      request_id: res.headers['x-request-id'],
    });

    const nearly = JSON.stringify({ name: 'ada', count: 1, pad: 'x'.repeat(1024 * 1024 - 100) });
    // Parsed (under the limit); `pad` is not a field, so it is dropped.
    const ok = await request(t.url)
      .post('/api/v1/probe/echo')
      .set('Content-Type', 'application/json')
      .send(nearly)
      .expect(201);
    expect(ok.body).toEqual({ name: 'ada', count: 1, count_type: 'number', keys: ['name', 'count'] });
  });

  it('answers an unknown route with the 404 error shape', async () => {
    const res = await request(t.url).get('/api/v1/no-such-thing').set('X-Request-Id', 'r-404').expect(404);
    expect(res.body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      code: 'not_found',
      message: 'Cannot GET /api/v1/no-such-thing',
      request_id: 'r-404',
    });
  });

  it('turns an unexpected error into a bare 500 and logs its stack with the request id', async () => {
    const res = await request(t.url).get('/api/v1/probe/boom').set('X-Request-Id', 'r-500').expect(500);
    expect(res.body).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      code: 'internal_error',
      message: 'Internal server error',
      request_id: 'r-500',
    });
    expect(JSON.stringify(res.body)).not.toMatch(/relation|hunter2|at /);

    const logged = t.logs.lines.find((l) => l.context === 'Exceptions' && String(l.msg).includes('r-500'));
    expect(logged).toBeDefined();
    expect(logged!.level).toBe('error');
    expect(String(logged!.stack)).toMatch(/ProbeController\.boom/);
  });

  it('sets security headers and no X-Powered-By', async () => {
    const res = await request(t.url).get('/api/v1/health').expect(200);
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('allows CORS from the configured origins only', async () => {
    const allowed = await request(t.url)
      .options('/api/v1/health')
      .set('Origin', 'http://localhost:5173')
      .set('Access-Control-Request-Method', 'GET')
      .expect(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:5173');

    const denied = await request(t.url)
      .get('/api/v1/health')
      .set('Origin', 'https://evil.example')
      .expect(200);
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('gives a browser on an allowed origin its CORS headers on a plain GET, and caches a Vary: Origin either way', async () => {
    const fromBrowser = await request(t.url)
      .get('/api/v1/health')
      .set('Origin', 'http://localhost:5173')
      .expect(200);
    expect(fromBrowser.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(fromBrowser.headers['access-control-allow-credentials']).toBe('true');
    expect(fromBrowser.headers['access-control-expose-headers']).toContain('X-Request-Id');
    expect(fromBrowser.headers.vary).toBe('Origin');

    // No Origin (a desktop app, a server): the same headers but the allowed origin.
    const withoutOrigin = await request(t.url).get('/api/v1/health').expect(200);
    expect(withoutOrigin.headers['access-control-allow-origin']).toBeUndefined();
    expect(withoutOrigin.headers['access-control-allow-credentials']).toBe('true');
    expect(withoutOrigin.headers['access-control-expose-headers']).toBe(
      fromBrowser.headers['access-control-expose-headers'],
    );
    expect(withoutOrigin.headers.vary).toBe('Origin');
  });

  it('logs one JSON line per request with id, method, path, status and duration, and no credentials', async () => {
    await request(t.url)
      .get('/api/v1/health?token=sekrit-query-token')
      .set('Authorization', 'Bearer sekrit-bearer-token')
      .set('X-API-Key', 'sekrit-api-key')
      .set('X-Request-Id', 'r-log')
      .expect(200);
    const line = t.logs.lines.find((l) => l.request_id === 'r-log' && l.msg === 'request completed');
    expect(line).toMatchObject({
      level: 'info',
      req: { method: 'GET', path: '/api/v1/health' },
      res: { status: 200 },
      duration_ms: expect.any(Number),
    });
    expect(t.logs.text).not.toMatch(/sekrit/);
  });

  it('never logs request bodies', async () => {
    await request(t.url).post('/api/v1/probe/echo').send({ name: 'body-secret', count: 1 }).expect(201);
    expect(t.logs.text).not.toContain('body-secret');
  });
});
