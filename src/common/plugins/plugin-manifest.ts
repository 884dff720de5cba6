/*
 * The plugin manifest's vocabulary and what the automated checks report on a
 * submission: a contract shared by the plugin catalog (its category filter,
 * the checks a version keeps) and plugin submissions (whose checks validate
 * manifests against it, on worker threads that load nothing but the checks
 * and this file). Kept below both modules so neither imports the other for it.
 */

/** What a plugin may ask for; the installer shows each to the user. */
export const ALLOWED_PERMISSIONS = [
  'read:tasks',
  'write:tasks',
  'read:projects',
  'write:projects',
  'read:notes',
  'write:notes',
  'read:checkpoints',
  'write:checkpoints',
  'read:calendar',
  'write:calendar',
] as const;

export const PLUGIN_CATEGORIES = [
  'Productivity',
  'Communication',
  'Integrations',
  'Analytics',
  'Developer Tools',
  'Other',
] as const;

export type CheckName = 'manifest' | 'checksum' | 'package' | 'secrets' | 'squatting';
export type CheckStatus = 'passed' | 'failed' | 'held' | 'errored';

export interface CheckResult {
  check: CheckName;
  status: CheckStatus;
  code: string;
  message: string;
  file?: string;
  line?: number;
}

export interface PluginManifest {
  id: string;
  name: string;
  description: string;
  version: string;
  author: string;
  permissions: string[];
  category: string;
  price_cents: number;
}
