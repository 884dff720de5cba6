import type { EntityManager } from 'typeorm';
import { effectiveTier, type Tier } from '../../common/tiers/tiers.js';

/** SQL columns the tier rule needs, for queries that join a user's subscription (alias `sub`). */
export const SUBSCRIPTION_TIER_COLUMNS =
  'sub.tier AS sub_tier, sub.status AS sub_status, sub.current_period_end > now() AS sub_in_period';

export interface SubscriptionTierColumns {
  tier_override: string | null;
  sub_tier: string | null;
  sub_status: string | null;
  sub_in_period: boolean | null;
}

export function tierFromColumns(row: SubscriptionTierColumns, defaultTier: Tier): Tier {
  return effectiveTier(
    row.tier_override,
    { tier: row.sub_tier, status: row.sub_status, inPeriod: row.sub_in_period },
    defaultTier,
  );
}

/** A user's effective tier, read now (inside `q`'s transaction when given one). */
export async function effectiveTierOf(
  q: Pick<EntityManager, 'query'>,
  userId: string,
  defaultTier: Tier,
): Promise<Tier> {
  const [row] = await q.query<SubscriptionTierColumns[]>(
    `SELECT u.tier_override, ${SUBSCRIPTION_TIER_COLUMNS}
       FROM users u LEFT JOIN subscriptions sub ON sub.user_id = u.id WHERE u.id = $1`,
    [userId],
  );
  return row ? tierFromColumns(row, defaultTier) : defaultTier;
}
