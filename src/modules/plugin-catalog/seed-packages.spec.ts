import { runSubmissionChecks } from '../plugin-submissions/checks/index.js';
import { SEED_PACKAGES, sha256Hex, storedZip } from './seed-packages.js';

describe('seed packages', () => {
  it.each(SEED_PACKAGES.map((s) => [s.pluginId, s] as const))(
    '%s passes every automated check a submission must pass',
    async (_id, seed) => {
      const bytes = storedZip(seed.files);
      const report = await runSubmissionChecks({
        manifest: seed.manifest,
        packageBytes: bytes,
        checksum: sha256Hex(bytes),
        existing: [],
      });
      expect(report.results.filter((r) => r.status !== 'passed')).toEqual([]);
      expect(report.verdict).toBe('passed');
    },
  );
});
