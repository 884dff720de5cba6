import { createHash, timingSafeEqual } from 'node:crypto';
import { Deadline } from './deadline.js';
import { scanEntropy } from './entropy.js';
import { checkManifest } from './manifest-check.js';
import { checkPackage } from './package-check.js';
import { DEFAULT_CHECKS_TIMEOUT_MS, erroredResult, verdictOf } from './report.js';
import { checkSecrets, scanWithSecretlint } from './secrets-check.js';
import { checkSquatting } from './squatting-check.js';
import {
  type CheckName,
  type CheckResult,
  type ChecksInput,
  type ChecksProgress,
  type ChecksReport,
  DEFAULT_PACKAGE_LIMITS,
  type PackageLimits,
  type Scanners,
} from './types.js';

const DEFAULT_SCANNERS: Scanners = { secretlint: scanWithSecretlint, entropy: scanEntropy };

export interface ChecksOptions {
  limits?: PackageLimits;
  /** Deadline of the whole run, in milliseconds. */
  timeoutMs?: number;
  /** For tests only: replaces scanners (to prove that the checks fail closed). */
  scanners?: Partial<Scanners>;
  /** Told as each check starts (the worker forwards it, so a terminated run still has its results). */
  onProgress?: (progress: ChecksProgress) => void;
}

/**
 * Runs one check, failing closed: a throw becomes an `errored` result (`check_errored`, or
 * `check_timeout` past the deadline), never a pass. Findings pushed before the throw are kept.
 */
async function runCheck(check: CheckName, results: CheckResult[], body: (sink: CheckResult[]) => unknown) {
  const sink: CheckResult[] = [];
  try {
    await body(sink);
  } catch (error) {
    sink.push(erroredResult(check, error));
  }
  const passed: CheckResult = {
    check,
    status: 'passed',
    code: 'ok',
    message: `the ${check} check found nothing`,
  };
  results.push(...(sink.length > 0 ? sink : [passed]));
}

function checksumMatches(claimed: string, actual: string): boolean {
  if (typeof claimed !== 'string' || !/^[0-9a-fA-F]{64}$/.test(claimed)) return false;
  return timingSafeEqual(Buffer.from(claimed.toLowerCase(), 'hex'), Buffer.from(actual, 'hex'));
}

/** The automated checks of a plugin submission, every finding listed (see CheckResult). */
export async function runSubmissionChecks(
  input: ChecksInput,
  options: ChecksOptions = {},
): Promise<ChecksReport> {
  const deadline = new Deadline(options.timeoutMs ?? DEFAULT_CHECKS_TIMEOUT_MS);
  const limits = options.limits ?? DEFAULT_PACKAGE_LIMITS;
  const scanners: Scanners = { ...DEFAULT_SCANNERS, ...options.scanners };
  const sha256 = createHash('sha256').update(input.packageBytes).digest('hex');
  const results: CheckResult[] = [];
  let manifest: ChecksReport['manifest'];
  const step = (check: CheckName, body: (sink: CheckResult[]) => unknown) => {
    options.onProgress?.({ check, results: [...results], ...(manifest ? { manifest } : {}), sha256 });
    return runCheck(check, results, body);
  };
  await step('manifest', (sink) => {
    const checked = checkManifest(input.manifest);
    sink.push(...checked.results);
    manifest = checked.manifest;
  });
  await step('checksum', (sink) => {
    if (!checksumMatches(input.checksum, sha256)) {
      const message = 'the checksum does not match the package: send the lowercase hex SHA-256 of its bytes';
      sink.push({ check: 'checksum', status: 'failed', code: 'checksum_mismatch', message });
    }
  });
  let files: Awaited<ReturnType<typeof checkPackage>>;
  await step('package', async (sink) => {
    files = await checkPackage(input.packageBytes, input.manifest, limits, deadline, sink);
  });
  const scanned = files;
  if (scanned) await step('secrets', (sink) => checkSecrets(scanned, scanners, deadline, sink));
  const named = manifest;
  if (named) await step('squatting', (sink) => sink.push(...checkSquatting(named, input.existing)));
  return { results, verdict: verdictOf(results), ...(manifest ? { manifest } : {}), sha256 };
}
