import type { Tier } from '../../config/env.schema.js';

/*
 * The tier vocabulary and the matrix the global guards read (feature gates,
 * per-tier rate limits); it stays in common because common imports no module.
 * The rules about tiers live with their owners: the effective tier and the
 * byte quotas in auth, prices in billing, concurrent chat streams in chat.
 */

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
