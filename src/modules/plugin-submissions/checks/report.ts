import { CheckTimeoutError } from './deadline.js';
import type { CheckName, CheckResult, ChecksProgress, ChecksReport } from './types.js';

/*
 * How a checks report is put together, apart from the checks themselves: the check pool on the
 * main thread needs interruptedReport, and importing it from run-checks.ts loaded every scanner
 * (secretlint's rules, the zip reader) into the main thread of an idle server (issue 38).
 */

export const DEFAULT_CHECKS_TIMEOUT_MS = 20_000;

export function erroredResult(check: CheckName, error: unknown): CheckResult {
  if (error instanceof CheckTimeoutError) {
    return {
      check,
      status: 'errored',
      code: 'check_timeout',
      message: `the ${check} check did not finish in time`,
    };
  }
  // The reason is the error's class, never its message: messages of parsers and scanners may quote the input.
  const reason = error instanceof Error ? error.name : 'unknown error';
  return {
    check,
    status: 'errored',
    code: 'check_errored',
    message: `the ${check} check could not run: ${reason}`,
  };
}

export function verdictOf(results: CheckResult[]): ChecksReport['verdict'] {
  for (const status of ['failed', 'errored', 'held'] as const) {
    if (results.some((result) => result.status === status)) return status;
  }
  return 'passed';
}

/**
 * The report of a run stopped from outside at `progress` (the last one told, if any): what finished
 * is kept, and the check that was running is `errored` — `check_timeout` when it was stopped at the
 * deadline, `check_errored` when its worker died. Never a pass; without any progress the manifest is
 * unknown, so the submission cannot be stored (the caller answers "submit again").
 */
export function interruptedReport(
  progress: ChecksProgress | undefined,
  cause: 'timeout' | 'worker_exit',
): ChecksReport {
  const check = progress?.check ?? 'manifest';
  const stopped: CheckResult =
    cause === 'timeout'
      ? erroredResult(check, new CheckTimeoutError())
      : {
          check,
          status: 'errored',
          code: 'check_errored',
          message: `the ${check} check could not run: its worker stopped`,
        };
  const results = [...(progress?.results ?? []), stopped];
  const manifest = progress?.manifest;
  return {
    results,
    verdict: verdictOf(results),
    ...(manifest ? { manifest } : {}),
    sha256: progress?.sha256 ?? '',
  };
}
