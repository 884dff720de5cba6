import { quotaBytes } from '../auth/index.js';
import type { Tier } from '../../common/tiers/tiers.js';
import { StorageException } from './storage.errors.js';
import type { StorageQuotaEvent } from './storage.events.js';

/** Usage share that triggers the storage:quota alert. */
const ALERT_AT = 0.8;

/** A user's storage usage as read under its row lock. */
export interface UsageLock {
  usedBytes: number;
  nextSeq: number;
  alerted: boolean;
}

/**
 * Refuses a growth of `delta` bytes past the tier's quota (402); a shrink is
 * always allowed, even over quota after a downgrade.
 */
export function assertRoomFor(usedBytes: number, delta: number, tier: Tier): void {
  const quota = quotaBytes(tier, 'cloud_storage_gb');
  if (delta <= 0 || quota === null) return;
  if (usedBytes + delta > quota) {
    throw new StorageException(
      'quota_exceeded',
      `Storage quota exceeded: ${usedBytes + delta} bytes would pass the ${tier} tier's ${quota} bytes. ` +
        'Delete something or upgrade.',
    );
  }
}

/** Whether `usedBytes` is at or past the alert share of the tier's quota (never for an unlimited or empty quota). */
export function isNearQuota(usedBytes: number, tier: Tier): boolean {
  const quota = quotaBytes(tier, 'cloud_storage_gb');
  return quota !== null && quota > 0 && usedBytes >= quota * ALERT_AT;
}

/** The alert for a write that crosses the alert share: sent once until usage drops below again. */
export function crossedAlert(
  usedBytes: number,
  tier: Tier,
  alertedBefore: boolean,
): StorageQuotaEvent | undefined {
  const quota = quotaBytes(tier, 'cloud_storage_gb');
  if (alertedBefore || quota === null || !isNearQuota(usedBytes, tier)) return undefined;
  return { used_bytes: usedBytes, quota_bytes: quota, percent: usagePercent(usedBytes, quota)! };
}

/** Percent of the quota used, two decimals; null when unlimited; a zero quota is 0 or 100. */
export function usagePercent(usedBytes: number, quota: number | null): number | null {
  if (quota === null) return null;
  if (quota === 0) return usedBytes > 0 ? 100 : 0;
  return Math.round((usedBytes / quota) * 10_000) / 100;
}
