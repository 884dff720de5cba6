import { AppException } from '../../common/errors/app.exception.js';
import { FEATURES, TIERS, type Tier } from '../../common/tiers/tiers.js';

export const GIB = 1024 ** 3;

/*
 * The byte quotas a tier includes. Auth owns the tiers (it resolves each
 * request's effective tier); storage, vectors and backups enforce these
 * quotas on their own usage.
 */

/** The byte quotas of the feature matrix: cloud storage (records and vectors) and backups. */
export type QuotaKind = 'cloud_storage_gb' | 'backup_gb';

const QUOTA_NAMES: Record<QuotaKind, string> = {
  cloud_storage_gb: 'Cloud storage',
  backup_gb: 'Backups',
};

/** Bytes of `kind` a tier includes; null = unlimited. */
export function quotaBytes(tier: Tier, kind: QuotaKind): number | null {
  const gb = FEATURES[tier][kind];
  return gb < 0 ? null : gb * GIB;
}

/** The cheapest tier that includes any of `kind` (the matrix is monotonic in tier order). */
export function lowestTierWithQuota(kind: QuotaKind): Tier {
  const tier = TIERS.find((t) => quotaBytes(t, kind) !== 0);
  if (!tier) throw new Error(`No tier includes ${kind}`);
  return tier;
}

/**
 * 402 `quota_exceeded` naming the tier needed, for a tier whose quota of
 * `kind` is zero. A quota-less tier is a quota question, not a feature gate:
 * the client answers it the way it answers a full quota (upgrade or free space).
 */
export function assertQuotaIncluded(tier: Tier, kind: QuotaKind): void {
  if (quotaBytes(tier, kind) !== 0) return;
  const needed = lowestTierWithQuota(kind);
  const name = QUOTA_NAMES[kind];
  throw new AppException(
    'quota_exceeded',
    `${name} ${kind === 'backup_gb' ? 'are' : 'is'} not included in the ${tier} tier; ` +
      `${kind === 'backup_gb' ? 'they need' : 'it needs'} the ${needed} tier or higher`,
    { required_tier: needed },
  );
}
