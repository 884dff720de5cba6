import { startTestApp, type TestApp } from './support/test-app.js';
import { listRoutes, mountedRoutes } from './support/routes.js';

/**
 * Every route must be deliberately public (@Public()) or behind the global
 * authentication guard. Until the accounts module brings that guard, there is
 * nothing to be behind, so every route must be public.
 */
describe('route audit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('sees every route Express serves (besides the public Swagger UI under /docs)', () => {
    const declared = listRoutes(t.app)
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    const mounted = mountedRoutes(t.app);
    expect(declared.length).toBeGreaterThan(0);
    expect(declared).toEqual(mounted.filter((r) => !r.startsWith('GET /docs')).sort());
    expect(
      mounted.filter((r) => !declared.includes(r)).every((r) => /^GET \/docs(\/|-json|-yaml|$)/.test(r)),
    ).toBe(true);
  });

  it('has no route that is neither public nor guarded', () => {
    const unprotected = listRoutes(t.app).filter((r) => !r.isPublic);
    expect(unprotected.map((r) => `${r.method} ${r.path} (${r.handler})`)).toEqual([]);
  });
});
