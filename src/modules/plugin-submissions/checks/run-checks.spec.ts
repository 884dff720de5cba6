import { sha256Hex, validPluginPackage, sampleManifest } from '../../../../test/support/plugin-package.js';
import { type ChecksInput, runSubmissionChecks } from './index.js';

const manifest = sampleManifest;

function input(overrides: Partial<ChecksInput> = {}): ChecksInput {
  const packageBytes = overrides.packageBytes ?? validPluginPackage(manifest);
  return { manifest, packageBytes, checksum: sha256Hex(packageBytes), existing: [], ...overrides };
}

describe('runSubmissionChecks', () => {
  it('passes a clean package: verdict passed, one passed result per check, the manifest and sha256', async () => {
    const report = await runSubmissionChecks(input());
    expect(report.verdict).toBe('passed');
    expect(report.results.map(({ check, status, code }) => [check, status, code])).toEqual([
      ['manifest', 'passed', 'ok'],
      ['checksum', 'passed', 'ok'],
      ['package', 'passed', 'ok'],
      ['secrets', 'passed', 'ok'],
      ['squatting', 'passed', 'ok'],
    ]);
    expect(report.manifest).toEqual(manifest);
    expect(report.sha256).toBe(sha256Hex(validPluginPackage(manifest)));
  });

  it('fails on a checksum that does not match, accepting upper-case hex', async () => {
    const bytes = validPluginPackage(manifest);
    const upper = await runSubmissionChecks(input({ checksum: sha256Hex(bytes).toUpperCase() }));
    expect(upper.verdict).toBe('passed');
    const wrong = await runSubmissionChecks(input({ checksum: sha256Hex(Buffer.from('other bytes')) }));
    expect(wrong.verdict).toBe('failed');
    expect(wrong.results.filter((result) => result.status === 'failed')).toEqual([
      {
        check: 'checksum',
        status: 'failed',
        code: 'checksum_mismatch',
        message: 'the checksum does not match the package: send the lowercase hex SHA-256 of its bytes',
      },
    ]);
    const garbage = await runSubmissionChecks(input({ checksum: 'not-hex' }));
    expect(garbage.results.map((result) => result.code)).toContain('checksum_mismatch');
  });

  it('holds a near-duplicate of another author’s plugin: verdict held', async () => {
    const report = await runSubmissionChecks(input({ existing: [{ id: 'focus-timers', name: 'Timers' }] }));
    expect(report.verdict).toBe('held');
    expect(report.results.at(-1)).toMatchObject({
      check: 'squatting',
      status: 'held',
      code: 'name_squatting',
    });
    expect(report.manifest).toEqual(manifest);
  });

  it('does not hold the same id (the caller refuses it with 409)', async () => {
    const report = await runSubmissionChecks(
      input({ existing: [{ id: 'focus-timer', name: 'Focus Timer' }] }),
    );
    expect(report.verdict).toBe('passed');
  });

  it('fails closed: a scanner that throws makes the check errored, never passed, without its message', async () => {
    const report = await runSubmissionChecks(input(), {
      scanners: {
        secretlint: () => Promise.reject(new TypeError('boom: the secret is hunter2')),
      },
    });
    expect(report.verdict).toBe('errored');
    expect(report.results.find((result) => result.check === 'secrets')).toEqual({
      check: 'secrets',
      status: 'errored',
      code: 'check_errored',
      message: 'the secrets check could not run: TypeError',
    });
    expect(JSON.stringify(report)).not.toContain('hunter2');
    expect(report.manifest).toEqual(manifest);
  });

  it('a failure outranks an error, an error outranks a hold', async () => {
    const throwing = {
      entropy: () => {
        throw new Error('x');
      },
    };
    const existing = [{ id: 'focus-timers', name: 'Timers' }];
    const erroredAndHeld = await runSubmissionChecks(input({ existing }), { scanners: throwing });
    expect(erroredAndHeld.verdict).toBe('errored');
    const failedToo = await runSubmissionChecks(input({ existing, checksum: '0'.repeat(64) }), {
      scanners: throwing,
    });
    expect(failedToo.verdict).toBe('failed');
  });

  it('times out: a scanner that hangs past the deadline makes the check errored (check_timeout)', async () => {
    // A scanner that never settles: the run still ends (a hang would time the test out). The
    // deadline is the whole run's, so it leaves the package check, which comes first, ample time
    // on a loaded machine (with 200 ms, CI's package check once ran out of it and the scan was skipped).
    const report = await runSubmissionChecks(input(), {
      timeoutMs: 5_000,
      scanners: { secretlint: () => new Promise(() => undefined) },
    });
    expect(report.verdict).toBe('errored');
    expect(report.results.find((result) => result.check === 'secrets')).toEqual({
      check: 'secrets',
      status: 'errored',
      code: 'check_timeout',
      message: 'the secrets check did not finish in time',
    });
  });

  it('times out the package check too when the deadline has already passed, and then skips the scan', async () => {
    const report = await runSubmissionChecks(input(), { timeoutMs: 0 });
    expect(report.verdict).toBe('errored');
    expect(report.results.find((result) => result.check === 'package')).toMatchObject({
      code: 'check_timeout',
    });
    expect(report.results.some((result) => result.check === 'secrets')).toBe(false);
  });

  it('lists every failed check at once', async () => {
    const packageBytes = Buffer.from('not a zip');
    const report = await runSubmissionChecks({
      manifest: { ...manifest, id: 'Bad Id', category: 'Games' },
      packageBytes,
      checksum: '0'.repeat(64),
      existing: [],
    });
    expect(report.verdict).toBe('failed');
    expect(report.manifest).toBeUndefined();
    expect(report.results.map(({ check, code }) => `${check}:${code}`)).toEqual([
      'manifest:manifest_invalid_id',
      'manifest:manifest_invalid_category',
      'checksum:checksum_mismatch',
      'package:package_not_zip',
    ]);
  });
});
