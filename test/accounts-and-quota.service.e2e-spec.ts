import { DataSource } from 'typeorm';
import { managerOf } from '../src/database/unit-of-work.js';
import { AuditService } from '../src/modules/audit/audit.service.js';
import { AccountsService } from '../src/modules/auth/accounts.service.js';
import { StorageQuotaService } from '../src/modules/storage/storage-quota.service.js';
import { StorageException } from '../src/modules/storage/storage.errors.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser } from './support/users.js';

/** Service rules on a real database, where they are awkward to pin over HTTP. */
describe('accounts and the storage quota, as services', () => {
  let t: TestApp;
  let db: DataSource;
  let accounts: AccountsService;
  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    accounts = t.app.get(AccountsService);
  });
  afterAll(() => t.close());

  async function subscribe(userId: string, status: string, periodEndsInMs: number): Promise<void> {
    await db.query(
      `INSERT INTO subscriptions (id, user_id, tier, status, current_period_end)
       VALUES (gen_random_uuid(), $1, 'power', $2, now() + make_interval(secs => $3))`,
      [userId, status, periodEndsInMs / 1000],
    );
  }

  it('computes the effective tier from the override, else a live subscription, else the default', async () => {
    const active = await newUser(t);
    await subscribe(active.id, 'active', 86_400_000);
    expect(await accounts.effectiveTierOf(active.id)).toBe('power');

    const lapsed = await newUser(t);
    await subscribe(lapsed.id, 'past_due', -1000);
    expect(await accounts.effectiveTierOf(lapsed.id)).toBe('free');

    const graced = await newUser(t);
    await subscribe(graced.id, 'past_due', 86_400_000);
    expect(await accounts.effectiveTierOf(graced.id)).toBe('power');

    const overridden = await newUser(t, { tier: 'team' });
    await subscribe(overridden.id, 'active', 86_400_000);
    expect(await accounts.effectiveTierOf(overridden.id)).toBe('team');

    expect(await accounts.effectiveTierOf('00000000-0000-4000-8000-000000000000')).toBe('free');
  });

  it('writes one tier.changed entry for a change of tier and none for no change', async () => {
    const user = await newUser(t);
    const count = async () =>
      Number(
        (
          await db.query(
            `SELECT count(*) AS n FROM audit_log WHERE event_type = 'tier.changed' AND subject_id = $1`,
            [user.id],
          )
        )[0].n,
      );
    await accounts.recordTierChange({
      userId: user.id,
      from: 'free',
      to: 'free',
      reason: 'nothing happened',
    });
    expect(await count()).toBe(0);
    await accounts.recordTierChange({
      userId: user.id,
      from: 'free',
      to: 'pro',
      actorId: user.id,
      reason: 'a test',
      data: { source: 'service test' },
    });
    expect(await count()).toBe(1);
    const [entry] = await db.query(
      `SELECT actor_id, reason, data FROM audit_log WHERE event_type = 'tier.changed' AND subject_id = $1`,
      [user.id],
    );
    expect(entry).toEqual({
      actor_id: user.id,
      reason: 'a test',
      data: { from: 'free', to: 'pro', source: 'service test' },
    });
    expect((await t.app.get(AuditService).verify()).ok).toBe(true);
  });

  it('lets exactly as many concurrent writes through as the quota has room for, and counts them exactly', async () => {
    const user = await newUser(t, { tier: 'pro' });
    const quota = 5 * 1024 ** 3;
    const size = 1000;
    await db.query('INSERT INTO storage_usage (user_id, used_bytes) VALUES ($1, $2)', [
      user.id,
      quota - 3 * size,
    ]);
    const quotaService = t.app.get(StorageQuotaService);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        quotaService.withUsageLock({ id: user.id, tier: 'pro' }, () =>
          Promise.resolve({ value: 'written', deltaBytes: size }),
        ),
      ),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(3);
    const refused = results.filter((result) => result.status === 'rejected');
    expect(refused).toHaveLength(7);
    for (const result of refused) {
      expect(result.reason).toBeInstanceOf(StorageException);
      expect((result.reason as StorageException).code).toBe('quota_exceeded');
    }
    const [{ used_bytes: used }] = await db.query('SELECT used_bytes FROM storage_usage WHERE user_id = $1', [
      user.id,
    ]);
    expect(Number(used)).toBe(quota);
  });

  it('rolls the write back when the quota refuses it', async () => {
    const user = await newUser(t, { tier: 'pro' });
    const quota = 5 * 1024 ** 3;
    await db.query('INSERT INTO storage_usage (user_id, used_bytes) VALUES ($1, $2)', [user.id, quota]);
    await expect(
      t.app.get(StorageQuotaService).withUsageLock({ id: user.id, tier: 'pro' }, async (tx) => {
        await managerOf(tx).query(
          `INSERT INTO devices (user_id, device_id, name) VALUES ($1, 'written-inside', 'must not stay')`,
          [user.id],
        );
        return { value: undefined, deltaBytes: 1 };
      }),
    ).rejects.toThrow(StorageException);
    expect(await db.query('SELECT 1 FROM devices WHERE user_id = $1', [user.id])).toEqual([]);
  });
});
