import type { Tier } from '../../common/tiers/tiers.js';

/** Monthly price in EUR cents (team: per seat). */
export const PRICES_EUR_CENTS: Readonly<Record<Tier, number>> = {
  free: 0,
  pro: 1500,
  power: 2900,
  team: 4900,
};
