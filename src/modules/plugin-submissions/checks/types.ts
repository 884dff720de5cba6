export {
  ALLOWED_PERMISSIONS,
  type CheckName,
  type CheckResult,
  type CheckStatus,
  PLUGIN_CATEGORIES,
  type PluginManifest,
} from '../../../common/plugins/plugin-manifest.js';
import type { CheckName, CheckResult, PluginManifest } from '../../../common/plugins/plugin-manifest.js';

export interface PackageLimits {
  maxPackageBytes: number;
  maxFiles: number;
  maxUnpackedBytes: number;
  maxFileBytes: number;
}

const MIB = 1024 * 1024;

export const DEFAULT_PACKAGE_LIMITS: PackageLimits = {
  maxPackageBytes: 10 * MIB,
  maxFiles: 500,
  maxUnpackedBytes: 50 * MIB,
  maxFileBytes: 20 * MIB,
};

export interface ChecksInput {
  /** The manifest as the client sent it (any JSON value). */
  manifest: unknown;
  /** The package, decoded from base64 already. */
  packageBytes: Buffer;
  /** What the client claims: the hex SHA-256 of packageBytes. */
  checksum: string;
  /** Plugins by other authors, for the name-squatting check. */
  existing: Array<{ id: string; name: string }>;
}

export interface ChecksReport {
  /** One 'passed' entry per check that found nothing, else one entry per finding. */
  results: CheckResult[];
  /** failed if any failed; else errored if any errored; else held if any held; else passed. */
  verdict: 'failed' | 'errored' | 'held' | 'passed';
  /** The validated manifest, when the manifest check passed. */
  manifest?: PluginManifest;
  /** The actual SHA-256 (hex) of packageBytes. */
  sha256: string;
}

/** A file of the package, inflated and checked against its limits. */
export interface PackageFile {
  name: string;
  content: Buffer;
}

/** A file as the secret scanners read it. */
export interface TextFile {
  name: string;
  text: string;
  /** A binary file, read one character per byte (Latin-1): findings are placed by offset, not line. */
  binary?: boolean;
}

/** A secret scanner's finding: which rule, what it found (never the text itself) and where. */
export interface SecretFinding {
  rule: string;
  label: string;
  line: number;
  /** The last line, when the finding spans several (a private key block). */
  endLine?: number;
  /** Where it starts, in characters from the start of the text (bytes, for a binary file). */
  offset?: number;
}

/**
 * Where a run is, told as each check starts: the results so far, the validated manifest (once the
 * manifest check passed) and the package's SHA-256. A run stopped from outside (its worker terminated
 * at the deadline, or crashed) is reported from the last one (see interruptedReport).
 */
export interface ChecksProgress {
  /** The check that starts now. */
  check: CheckName;
  results: CheckResult[];
  manifest?: PluginManifest;
  sha256: string;
}

/** The scanners the checks call; replaceable in unit tests only (to prove the checks fail closed). */
export interface Scanners {
  secretlint: (file: TextFile) => Promise<SecretFinding[]>;
  entropy: (file: TextFile) => SecretFinding[];
}
