import { isTier, type Tier, TIERS } from '../../common/tiers/tiers.js';

/** Subscription states in which the paid tier applies (past_due only until the paid period ends). */
export interface SubscriptionState {
  tier: string | null;
  status: string | null;
  /** current_period_end is in the future */
  inPeriod: boolean | null;
}

/** The subscription's tier while it is live, else null. */
function liveTier(sub: SubscriptionState | null | undefined): Tier | null {
  if (!sub || !isTier(sub.tier)) return null;
  if (sub.status === 'active' || sub.status === 'trialing') return sub.tier;
  if (sub.status === 'past_due' && sub.inPeriod) return sub.tier;
  return null;
}

/**
 * The one rule for a user's tier: an admin's override, else the better of a
 * live subscription's tier (else DEFAULT_TIER) and the tier of a team the
 * user is a member of while that team's subscription is live.
 */
export function effectiveTier(
  override: string | null,
  sub: SubscriptionState | null,
  defaultTier: Tier,
  teamSub: SubscriptionState | null = null,
): Tier {
  if (isTier(override)) return override;
  const own = liveTier(sub) ?? defaultTier;
  const team = liveTier(teamSub);
  return team && TIERS.indexOf(team) > TIERS.indexOf(own) ? team : own;
}
