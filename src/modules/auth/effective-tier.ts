import { isTier, type Tier } from '../../common/tiers/tiers.js';

/** Subscription states in which the paid tier applies (past_due only until the paid period ends). */
export interface SubscriptionState {
  tier: string | null;
  status: string | null;
  /** current_period_end is in the future */
  inPeriod: boolean | null;
}

/**
 * The one rule for a user's tier: an admin's override, else a live
 * subscription's tier, else DEFAULT_TIER.
 */
export function effectiveTier(
  override: string | null,
  sub: SubscriptionState | null,
  defaultTier: Tier,
): Tier {
  if (isTier(override)) return override;
  if (sub && isTier(sub.tier)) {
    if (sub.status === 'active' || sub.status === 'trialing') return sub.tier;
    if (sub.status === 'past_due' && sub.inPeriod) return sub.tier;
  }
  return defaultTier;
}
