import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { generateClientTypes } from './support/openapi-client.js';
import { startTestApp, type TestApp } from './support/test-app.js';

/**
 * The generated-client promise of the OpenAPI document: types generated from
 * the committed openapi.json, an integrator's whole flow type-checked with
 * `tsc --strict` and no casts, then run against the real server with the API
 * key as the only credential for the data routes.
 *
 * The types are generated here, not committed: they are a pure function of
 * openapi.json (committed and checked against the code), so a second copy in
 * git could only drift.
 */
describe('a client generated from openapi.json', () => {
  const dir = join('test', 'client');

  beforeAll(async () => {
    await generateClientTypes('openapi.json', join(dir, 'generated', 'api.ts'));
  });

  it('type-checks the integrator flow with tsc --strict', () => {
    const tsc = spawnSync(
      process.execPath,
      ['node_modules/typescript/bin/tsc', '-p', join(dir, 'tsconfig.json')],
      {
        encoding: 'utf8',
      },
    );
    expect({ status: tsc.status, output: tsc.stdout + tsc.stderr }).toEqual({ status: 0, output: '' });
  }, 180_000);

  describe('against the server', () => {
    let t: TestApp;
    beforeAll(async () => {
      // New accounts get a tier with cloud storage and backups, as a self-hoster would set it.
      // The flow searches vectors: an embedded database (PGlite has pgvector; CI's server has not).
      t = await startTestApp({ embeddedDb: true, env: { DEFAULT_TIER: 'pro' } });
    });
    afterAll(() => t.close());

    it('runs the integrator flow: register, me, API key, records, changes, vectors, backups', async () => {
      // Loaded at run time: the root type check leaves test/client (and its generated types) to tsc above.
      const flowModule = './client/integrator-flow.js';
      const { runIntegratorFlow } = (await import(flowModule)) as {
        runIntegratorFlow: (baseUrl: string) => Promise<Record<string, unknown>>;
      };
      const report = await runIntegratorFlow(`${t.url}/api/v1`);
      expect(report).toEqual({
        email: expect.stringMatching(/^integrator-/),
        tier: 'pro',
        recordVersions: [1, 2],
        listedTotal: '1',
        changes: 2,
        vectorScore: expect.closeTo(1, 5),
        backups: 1,
        backupBytesMatch: true,
        rangeStatus: 206,
        rangeBytesMatch: true,
      });
    });
  });
});
