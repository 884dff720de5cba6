import { effectiveTier, type SubscriptionState } from './effective-tier.js';

const subscription = (
  tier: string | null,
  status: string | null,
  inPeriod: boolean | null = true,
): SubscriptionState => ({ tier, status, inPeriod });

describe('effectiveTier', () => {
  it('gives the default tier to a user without override or subscription', () => {
    expect(effectiveTier(null, null, 'free')).toBe('free');
    expect(effectiveTier(null, null, 'pro')).toBe('pro');
  });

  it('applies an active or trialing subscription', () => {
    expect(effectiveTier(null, subscription('pro', 'active'), 'free')).toBe('pro');
    expect(effectiveTier(null, subscription('power', 'trialing'), 'free')).toBe('power');
  });

  it('keeps a past_due subscription only while its paid period lasts', () => {
    expect(effectiveTier(null, subscription('team', 'past_due', true), 'free')).toBe('team');
    expect(effectiveTier(null, subscription('team', 'past_due', false), 'free')).toBe('free');
    expect(effectiveTier(null, subscription('team', 'past_due', null), 'free')).toBe('free');
  });

  it('ignores canceled, incomplete and unpaid subscriptions', () => {
    for (const status of ['canceled', 'incomplete', 'incomplete_expired', 'unpaid', null]) {
      expect(effectiveTier(null, subscription('pro', status), 'free')).toBe('free');
    }
  });

  it("lets an admin's override win over any subscription", () => {
    expect(effectiveTier('team', subscription('pro', 'active'), 'free')).toBe('team');
    expect(effectiveTier('free', subscription('power', 'active'), 'pro')).toBe('free');
    expect(effectiveTier('power', null, 'free')).toBe('power');
  });

  it('treats unknown tier strings as absent', () => {
    expect(effectiveTier('platinum', subscription('pro', 'active'), 'free')).toBe('pro');
    expect(effectiveTier('', null, 'free')).toBe('free');
    expect(effectiveTier(null, subscription('enterprise', 'active'), 'free')).toBe('free');
    expect(effectiveTier(null, subscription(null, 'active'), 'pro')).toBe('pro');
    expect(effectiveTier('PRO', null, 'free')).toBe('free');
  });

  it("adds a team's live subscription: the better of the member's own tier and the team's", () => {
    expect(effectiveTier(null, null, 'free', subscription('team', 'active'))).toBe('team');
    expect(effectiveTier(null, subscription('pro', 'active'), 'free', subscription('team', 'trialing'))).toBe(
      'team',
    );
    expect(
      effectiveTier(null, subscription('pro', 'active'), 'free', subscription('team', 'past_due', true)),
    ).toBe('team');
  });

  it("falls back to the member's own tier when the team's subscription is not live; an override still wins", () => {
    expect(effectiveTier(null, subscription('pro', 'active'), 'free', subscription('team', 'canceled'))).toBe(
      'pro',
    );
    expect(effectiveTier(null, null, 'free', subscription('team', 'past_due', false))).toBe('free');
    expect(effectiveTier(null, null, 'power', null)).toBe('power');
    expect(effectiveTier('free', null, 'free', subscription('team', 'active'))).toBe('free');
  });
});
