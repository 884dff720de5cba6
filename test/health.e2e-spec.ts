import { readFileSync } from 'node:fs';
import request from 'supertest';
import { APP_VERSION } from '../src/config/version.js';
import { LifecycleService } from '../src/common/lifecycle/lifecycle.service.js';
import { EmbeddedPostgres } from '../src/database/embedded/embedded-postgres.js';
import { startLocalS3 } from './support/s3.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('health and readiness', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('GET /api/v1/health answers ok with the package version, without credentials', async () => {
    const res = await request(t.url).get('/api/v1/health').expect(200);
    expect(res.body).toEqual({ status: 'ok', version: APP_VERSION });
    expect(APP_VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    expect(res.headers['x-request-id']).toMatch(UUID);
  });

  it('echoes a client X-Request-Id and replaces one that is not a sane token', async () => {
    const mine = await request(t.url).get('/api/v1/health').set('X-Request-Id', 'client-req.42').expect(200);
    expect(mine.headers['x-request-id']).toBe('client-req.42');

    const bad = await request(t.url).get('/api/v1/health').set('X-Request-Id', 'a b<script>').expect(200);
    expect(bad.headers['x-request-id']).toMatch(UUID);
  });

  it('GET /api/v1/health/ready reports the database up', async () => {
    const res = await request(t.url).get('/api/v1/health/ready').expect(200);
    expect(res.body).toEqual({ status: 'ok', checks: { database: 'up', blob_store: 'up' } });
  });

  it('readiness answers 503 once shutdown has begun, while liveness still answers', async () => {
    const other = await startTestApp();
    try {
      other.app.get(LifecycleService).beginShutdown();
      const res = await request(other.url).get('/api/v1/health/ready').expect(503);
      expect(res.body).toMatchObject({
        statusCode: 503,
        error: 'Service Unavailable',
        code: 'service_unavailable',
        message: 'Not ready: the server is shutting down',
      });
      await request(other.url).get('/api/v1/health').expect(200);
    } finally {
      await other.close();
    }
  });
});

describe('readiness with the database stopped', () => {
  // A database of our own that we can stop, whatever DATABASE_URL points at.
  const pg = new EmbeddedPostgres();
  let t: TestApp;

  beforeAll(async () => {
    const url = await pg.start();
    t = await startTestApp({ db: { url, kind: 'embedded', drop: () => pg.stop() } });
  });
  afterAll(async () => {
    await t.close().catch(() => undefined);
  });

  it('answers 503 naming the database, and 200 again is not faked', async () => {
    await request(t.url).get('/api/v1/health/ready').expect(200);
    await pg.stop();

    const res = await request(t.url).get('/api/v1/health/ready').expect(503);
    expect(res.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'service_unavailable',
      message: 'Not ready: database is down',
      request_id: res.headers['x-request-id'],
    });
    // The process itself is alive: liveness does not depend on the database.
    await request(t.url).get('/api/v1/health').expect(200);
    // The cause is in the log for the operator, not in the response.
    expect(t.logs.text).toMatch(/Readiness check \\"database\\" failed/);
  });
});

describe('readiness with S3 configured', () => {
  it('checks the bucket, and names the blob store when it is down', async () => {
    const s3 = await startLocalS3();
    const t = await startTestApp({ env: s3.env });
    try {
      const ok = await request(t.url).get('/api/v1/health/ready').expect(200);
      expect(ok.body.checks).toEqual({ database: 'up', blob_store: 'up' });
      await s3.stop();
      const down = await request(t.url).get('/api/v1/health/ready').expect(503);
      expect(down.body.message).toBe('Not ready: blob_store is down');
    } finally {
      await t.close();
    }
  });
});
