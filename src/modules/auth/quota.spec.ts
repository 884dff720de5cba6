import { AppException } from '../../common/errors/app.exception.js';
import { assertQuotaIncluded, GIB, lowestTierWithQuota, quotaBytes } from './quota.js';

describe('tier quotas', () => {
  it('reads the matrix in bytes, -1 as unlimited', () => {
    expect(quotaBytes('free', 'cloud_storage_gb')).toBe(0);
    expect(quotaBytes('pro', 'cloud_storage_gb')).toBe(5 * GIB);
    expect(quotaBytes('power', 'backup_gb')).toBe(25 * GIB);
    expect(quotaBytes('team', 'backup_gb')).toBeNull();
  });

  it('names the cheapest tier that has a quota', () => {
    expect(lowestTierWithQuota('cloud_storage_gb')).toBe('pro');
    expect(lowestTierWithQuota('backup_gb')).toBe('pro');
  });

  it('refuses a quota-less tier with 402 quota_exceeded and the tier needed', () => {
    let thrown: unknown;
    try {
      assertQuotaIncluded('free', 'backup_gb');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AppException);
    const error = thrown as AppException;
    expect(error.getStatus()).toBe(402);
    expect(error.code).toBe('quota_exceeded');
    expect(error.extra).toEqual({ required_tier: 'pro' });
    expect(error.message).toContain('Backups are not included in the free tier');
    expect(() => assertQuotaIncluded('pro', 'cloud_storage_gb')).not.toThrow();
    expect(() => assertQuotaIncluded('team', 'backup_gb')).not.toThrow();
  });
});
