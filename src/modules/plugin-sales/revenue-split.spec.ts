import { periodOf, splitRefund, splitSale } from './revenue-split.js';

describe('revenue split', () => {
  it.each([
    [1, 0, 1],
    [99, 69, 30],
    [499, 349, 150],
    [999, 699, 300],
    [100_000, 70_000, 30_000],
  ])('splits %i cents: developer %i, platform %i, adding up to the amount', (amount, developer, platform) => {
    expect(splitSale(amount)).toEqual({
      amountCents: amount,
      developerShareCents: developer,
      platformShareCents: platform,
    });
  });

  it('adds up for every amount from 0 to 10,000 cents', () => {
    for (let amount = 0; amount <= 10_000; amount += 1) {
      const split = splitSale(amount);
      expect(split.developerShareCents + split.platformShareCents).toBe(amount);
      expect(split.developerShareCents).toBe(Math.floor((amount * 70) / 100));
    }
  });

  it('refuses what is not a non-negative integer of cents', () => {
    expect(() => splitSale(1.5)).toThrow(RangeError);
    expect(() => splitSale(-1)).toThrow(RangeError);
  });

  it('takes back exactly what was split when refunds add up to the sale, in one or several parts', () => {
    for (const amount of [1, 99, 499, 999, 100_000]) {
      expect(splitRefund(0, amount)).toEqual({
        amountCents: 0 - amount,
        developerShareCents: 0 - splitSale(amount).developerShareCents,
        platformShareCents: 0 - splitSale(amount).platformShareCents,
      });
      const parts = [splitRefund(0, Math.floor(amount / 3)), splitRefund(Math.floor(amount / 3), amount)];
      expect(parts.reduce((sum, p) => sum + p.developerShareCents, 0)).toBe(
        0 - splitSale(amount).developerShareCents,
      );
      for (const part of parts)
        expect(part.developerShareCents + part.platformShareCents).toBe(part.amountCents);
    }
  });

  it('names the UTC month', () => {
    expect(periodOf(new Date('2026-01-31T23:59:59.999Z'))).toBe('2026-01');
    expect(periodOf(new Date('2026-02-01T00:00:00Z'))).toBe('2026-02');
  });
});
