import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { quotaBytes } from '../auth/index.js';
import type { Tier } from '../../common/tiers/tiers.js';
import { type Tx, UnitOfWork } from '../../database/unit-of-work.js';
import type { UsageDto } from './dto/storage.dto.js';
import { assertRoomFor, crossedAlert, isNearQuota, usagePercent, type UsageLock } from './storage-quota.js';
import { StorageUsageRepository } from './storage-usage.repository.js';
import { StorageEvents } from './storage.events.js';

/** What a write under the usage lock did: its result, the bytes it adds (negative frees) and the seqs it used. */
export interface UsageChange<T> {
  value: T;
  deltaBytes: number;
  seqsUsed?: number;
}

/**
 * The cloud-storage quota shared by records and vectors. Every write of a
 * user's bytes runs under the user's usage row lock, so writes serialise per
 * user: the quota cannot be overshot by concurrent writes and change seqs
 * commit in order.
 */
@Injectable()
export class StorageQuotaService {
  constructor(
    private readonly usage: StorageUsageRepository,
    private readonly events: StorageEvents,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  /**
   * Runs `write` in one transaction holding the usage lock, then checks the
   * quota for its delta (a refusal rolls the write back), stores the new
   * usage and, after commit, sends the 80 % alert when this write crossed it.
   * Without a tier (background purges) nothing is checked or alerted.
   */
  async withUsageLock<T>(
    user: { id: string; tier?: Tier },
    write: (tx: Tx, lock: UsageLock) => Promise<UsageChange<T>>,
  ): Promise<T> {
    const { value, alert } = await this.unitOfWork.run(async (tx) => {
      const lock = await this.usage.lock(tx, user.id);
      const change = await write(tx, lock);
      const usedBytes = lock.usedBytes + change.deltaBytes;
      if (user.tier) assertRoomFor(lock.usedBytes, change.deltaBytes, user.tier);
      const near = user.tier ? isNearQuota(usedBytes, user.tier) : undefined;
      const nextSeq = lock.nextSeq + (change.seqsUsed ?? 0);
      await this.usage.save(tx, user.id, { usedBytes, nextSeq, alerted: near });
      return { value: change.value, alert: user.tier && crossedAlert(usedBytes, user.tier, lock.alerted) };
    });
    if (alert) this.events.emit('quota', user.id, alert);
    return value;
  }

  async usageOf(user: AuthUser): Promise<UsageDto> {
    const used = await this.usage.usedBytes(user.id);
    const quota = quotaBytes(user.tier, 'cloud_storage_gb');
    return { used_bytes: used, quota_bytes: quota, percent: usagePercent(used, quota) };
  }
}
