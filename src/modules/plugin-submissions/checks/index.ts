export {
  ALLOWED_PERMISSIONS,
  type CheckName,
  type CheckResult,
  type ChecksInput,
  type ChecksProgress,
  type ChecksReport,
  type CheckStatus,
  DEFAULT_PACKAGE_LIMITS,
  type PackageFile,
  type PackageLimits,
  PLUGIN_CATEGORIES,
  type PluginManifest,
  type Scanners,
  type SecretFinding,
  type TextFile,
} from './types.js';
export { type ChecksOptions, DEFAULT_CHECKS_TIMEOUT_MS, runSubmissionChecks } from './run-checks-lazily.js';
export {
  AccountQueueFullError,
  CheckPool,
  type CheckPoolOptions,
  CheckQueueFullError,
  HARD_DEADLINE_GRACE_MS,
} from './check-pool.js';
export { sharedBytesFromBase64 } from './shared-bytes.js';
