import { StorageException } from './storage.errors.js';
import type { EntityManager } from 'typeorm';
import { FEATURES, TIERS, type Tier } from '../../common/tiers/tiers.js';
import type { StorageQuotaEvent } from './storage.events.js';

const GIB = 1024 ** 3;
/** Usage share that triggers the storage:quota alert. */
const ALERT_AT = 0.8;

/** Bytes of cloud storage a tier includes; null = unlimited. */
export function quotaBytes(tier: Tier): number | null {
  const gb = FEATURES[tier].cloud_storage_gb;
  return gb < 0 ? null : gb * GIB;
}

/** 402 for a tier without cloud storage, naming the tier that has it. */
export function assertTierHasStorage(tier: Tier): void {
  if (quotaBytes(tier) === 0) {
    const needed = TIERS.find((t) => quotaBytes(t) !== 0)!;
    throw new StorageException(
      'quota_exceeded',
      `Cloud storage is not included in the ${tier} tier; it needs the ${needed} tier or higher`,
      { required_tier: needed },
    );
  }
}

export interface UsageLock {
  usedBytes: number;
  nextSeq: number;
  alerted: boolean;
}

/**
 * Locks the user's usage row for the rest of the transaction (creating it on
 * first use). Every storage write of a user passes here, so writes serialise
 * per user: quota checks cannot be overshot and change seqs commit in order.
 */
export async function lockUsage(m: EntityManager, userId: string): Promise<UsageLock> {
  // One statement: creates the row on first use, and the DO UPDATE takes the row lock either way.
  const [row] = await m.query<Array<{ used_bytes: string; next_seq: string; alerted: boolean }>>(
    `INSERT INTO storage_usage (user_id) VALUES ($1)
     ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id
     RETURNING used_bytes, next_seq, alerted`,
    [userId],
  );
  return { usedBytes: Number(row.used_bytes), nextSeq: Number(row.next_seq), alerted: row.alerted };
}

/**
 * Applies a change of `delta` bytes under the lock: a growth past the quota is
 * refused (402); a shrink is always allowed, even over quota after a downgrade.
 */
export function checkQuota(lock: UsageLock, delta: number, tier: Tier): void {
  const quota = quotaBytes(tier);
  if (delta <= 0 || quota === null) return;
  if (lock.usedBytes + delta > quota) {
    throw new StorageException(
      'quota_exceeded',
      `Storage quota exceeded: ${lock.usedBytes + delta} bytes would pass the ${tier} tier's ${quota} bytes. ` +
        'Delete something or upgrade.',
    );
  }
}

/**
 * Writes the new usage (and the next change seq: storage writes advance it,
 * vector writes keep it) under the lock; returns the 80 % alert when this
 * write crosses it (sent once until usage drops below again).
 */
export async function applyUsage(
  m: EntityManager,
  user: { id: string; tier: Tier },
  lock: UsageLock,
  usedBytes: number,
  nextSeq: number,
): Promise<StorageQuotaEvent | undefined> {
  const quota = quotaBytes(user.tier);
  const high = quota !== null && quota > 0 && usedBytes >= quota * ALERT_AT;
  await setUsage(m, user.id, usedBytes, nextSeq, high);
  if (!high || lock.alerted || quota === null) return undefined;
  return {
    used_bytes: usedBytes,
    quota_bytes: quota,
    percent: Math.round((usedBytes / quota) * 10_000) / 100,
  };
}

export async function setUsage(
  m: EntityManager,
  userId: string,
  usedBytes: number,
  nextSeq: number,
  alerted?: boolean,
): Promise<void> {
  await m.query(
    'UPDATE storage_usage SET used_bytes = $2, next_seq = $3, alerted = COALESCE($4, alerted) WHERE user_id = $1',
    [userId, Math.max(0, usedBytes), nextSeq, alerted ?? null],
  );
}
