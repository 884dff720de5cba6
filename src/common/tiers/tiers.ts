import type { Tier } from '../../config/env.schema.js';

export type { Tier };
export const TIERS: readonly Tier[] = ['free', 'pro', 'power', 'team'];

/** -1 means unlimited. The tier matrix clients of the earlier API already show (keep it as it is). */
export interface TierFeatures {
  agents: number;
  batch_active: number;
  cloud_storage_gb: number;
  backup_gb: number;
  providers: number;
  batch_builder: boolean;
  plugin_marketplace: boolean;
  sso: boolean;
}

export const FEATURES: Readonly<Record<Tier, Readonly<TierFeatures>>> = {
  free: {
    agents: 3,
    batch_active: 2,
    cloud_storage_gb: 0,
    backup_gb: 0,
    providers: 1,
    batch_builder: false,
    plugin_marketplace: false,
    sso: false,
  },
  pro: {
    agents: -1,
    batch_active: 10,
    cloud_storage_gb: 5,
    backup_gb: 5,
    providers: -1,
    batch_builder: false,
    plugin_marketplace: false,
    sso: false,
  },
  power: {
    agents: -1,
    batch_active: -1,
    cloud_storage_gb: 25,
    backup_gb: 25,
    providers: -1,
    batch_builder: true,
    plugin_marketplace: true,
    sso: false,
  },
  team: {
    agents: -1,
    batch_active: -1,
    cloud_storage_gb: -1,
    backup_gb: -1,
    providers: -1,
    batch_builder: true,
    plugin_marketplace: true,
    sso: true,
  },
};

/** Requests per principal per minute. */
export const RATE_LIMITS: Readonly<Record<Tier, number>> = { free: 20, pro: 60, power: 120, team: 200 };

/** Chat streams one user may have running at once (every instance together). */
export const CHAT_STREAMS: Readonly<Record<Tier, number>> = { free: 1, pro: 3, power: 5, team: 10 };

/** Monthly price in EUR cents (team: per seat). */
export const PRICES_EUR_CENTS: Readonly<Record<Tier, number>> = {
  free: 0,
  pro: 1500,
  power: 2900,
  team: 4900,
};

/** Boolean features that can gate a route. */
export type GatedFeature = {
  [K in keyof TierFeatures]: TierFeatures[K] extends boolean ? K : never;
}[keyof TierFeatures];

/** The cheapest tier that has `feature` (the matrix is monotonic in tier order). */
export function lowestTierWith(feature: GatedFeature): Tier {
  const tier = TIERS.find((t) => FEATURES[t][feature]);
  if (!tier) throw new Error(`No tier has ${feature}`);
  return tier;
}

export function isTier(value: unknown): value is Tier {
  return typeof value === 'string' && (TIERS as readonly string[]).includes(value);
}

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
