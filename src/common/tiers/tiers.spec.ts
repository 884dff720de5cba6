import { isTier } from './tiers.js';

describe('isTier', () => {
  it('accepts exactly the four tiers', () => {
    expect(['free', 'pro', 'power', 'team'].every(isTier)).toBe(true);
    expect([undefined, null, 1, 'Free', 'gold'].some(isTier)).toBe(false);
  });
});
