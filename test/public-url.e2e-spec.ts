import request from 'supertest';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser } from './support/users.js';

/**
 * Links given to clients are built on PUBLIC_URL (in dev without it, on the
 * address the server listens on), never on what a request says its host is:
 * a forged Host or X-Forwarded-* would otherwise send an installer, with its
 * signed download query, to any host.
 */
const HOSTILE = {
  Host: 'evil.example',
  'X-Forwarded-Host': 'evil.example',
  'X-Forwarded-Proto': 'http',
};

async function installLink(t: TestApp): Promise<URL> {
  const user = await newUser(t, { tier: 'power' });
  const res = await request(t.url)
    .post('/api/v1/plugins/github-sync/install')
    .set(user.auth)
    .set(HOSTILE)
    .send({})
    .expect(200);
  return new URL(res.body.download_url as string);
}

describe('download links in production', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        ENV: 'prod',
        JWT_SECRET: 'u'.repeat(40),
        PUBLIC_URL: 'https://api.example.test/',
        // Even behind a proxy we trust, the forwarded host is not where links point.
        TRUST_PROXY: 'true',
      },
    });
  }, 120_000);
  afterAll(() => t?.close());

  it('puts a download link on PUBLIC_URL whatever Host and X-Forwarded-* the request carries', async () => {
    const link = await installLink(t);
    expect(link.origin).toBe('https://api.example.test');
    expect(link.pathname).toMatch(/^\/api\/v1\/plugins\/packages\/[0-9a-f-]{36}$/);
    // The same link, reached where this test server really listens, serves the package.
    const served = await fetch(`${t.url}${link.pathname}${link.search}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('application/zip');
  });
});

describe('download links in dev without PUBLIC_URL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  }, 120_000);
  afterAll(() => t?.close());

  it('puts a download link on the address the server listens on, not on the request Host', async () => {
    const link = await installLink(t);
    expect(link.origin).toBe(new URL(t.url).origin);
    expect((await fetch(link)).status).toBe(200);
  });
});
