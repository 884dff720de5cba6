import type { ChecksOptions, runSubmissionChecks as run } from './run-checks.js';

export type { ChecksOptions };
export { DEFAULT_CHECKS_TIMEOUT_MS } from './report.js';

/**
 * runSubmissionChecks, with the checks' code (secretlint's rules, the zip reader) loaded on the
 * first call: the checks run on the pool's workers (check-worker.ts imports run-checks.ts itself),
 * so the main thread of a server that never runs them in-process need not hold it (issue 38).
 */
export async function runSubmissionChecks(...args: Parameters<typeof run>): ReturnType<typeof run> {
  const checks = await import('./run-checks.js');
  return checks.runSubmissionChecks(...args);
}
