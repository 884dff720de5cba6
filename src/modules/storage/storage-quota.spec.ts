import { GIB } from '../auth/index.js';
import { assertRoomFor, crossedAlert, isNearQuota, usagePercent } from './storage-quota.js';
import { StorageException } from './storage.errors.js';

const PRO = 5 * GIB;

describe('storage quota arithmetic', () => {
  it('allows growth up to the quota exactly, and refuses one byte more with quota_exceeded', () => {
    expect(() => assertRoomFor(PRO - 10, 10, 'pro')).not.toThrow();
    expect(() => assertRoomFor(PRO - 10, 11, 'pro')).toThrow(StorageException);
    try {
      assertRoomFor(PRO, 1, 'pro');
    } catch (err) {
      expect((err as StorageException).code).toBe('quota_exceeded');
      expect((err as StorageException).getStatus()).toBe(402);
    }
  });

  it('always allows a shrink, even over quota after a downgrade', () => {
    expect(() => assertRoomFor(PRO * 2, -1, 'pro')).not.toThrow();
    expect(() => assertRoomFor(100, -100, 'free')).not.toThrow();
  });

  it('never limits an unlimited tier', () => {
    expect(() => assertRoomFor(1000 * GIB, GIB, 'team')).not.toThrow();
    expect(isNearQuota(1000 * GIB, 'team')).toBe(false);
  });

  it('alerts once when usage crosses 80 %', () => {
    const threshold = PRO * 0.8;
    expect(crossedAlert(threshold - 1, 'pro', false)).toBeUndefined();
    expect(crossedAlert(threshold, 'pro', false)).toEqual({
      used_bytes: threshold,
      quota_bytes: PRO,
      percent: 80,
    });
    expect(crossedAlert(threshold + 100, 'pro', true)).toBeUndefined();
    expect(isNearQuota(threshold, 'pro')).toBe(true);
    expect(isNearQuota(threshold - 1, 'pro')).toBe(false);
  });

  it('reports percent with two decimals, null when unlimited, 0 or 100 for a zero quota', () => {
    expect(usagePercent(1, 3)).toBe(33.33);
    expect(usagePercent(5, null)).toBeNull();
    expect(usagePercent(0, 0)).toBe(0);
    expect(usagePercent(1, 0)).toBe(100);
  });
});
