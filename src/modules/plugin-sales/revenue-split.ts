/** The developer's part of every sale, in percent; the platform keeps the rest. */
export const DEVELOPER_PERCENT = 70;

export interface Split {
  amountCents: number;
  developerShareCents: number;
  platformShareCents: number;
}

/** A sale's split: the developer gets floor(amount × 70 / 100), the platform the rest, so both add up to the amount. */
export function splitSale(amountCents: number): Split {
  if (!Number.isSafeInteger(amountCents) || amountCents < 0)
    throw new RangeError(`a sale is a non-negative integer of cents, not ${amountCents}`);
  const developerShareCents = Math.floor((amountCents * DEVELOPER_PERCENT) / 100);
  return { amountCents, developerShareCents, platformShareCents: amountCents - developerShareCents };
}

/**
 * The ledger row of a refund that brings a payment's refunded total from
 * `before` to `after` cents: negative, and its developer part is what the
 * developer's share of the refunded total grew by, so after a full refund the
 * sale and its refunds add up to zero for both sides.
 */
export function splitRefund(before: number, after: number): Split {
  const developerShareCents = splitSale(before).developerShareCents - splitSale(after).developerShareCents;
  const amountCents = before - after;
  return { amountCents, developerShareCents, platformShareCents: amountCents - developerShareCents };
}

// Years 0001-9999, as PostgreSQL's dates hold them (JavaScript has a year 0, PostgreSQL does not).
export const PERIOD_PATTERN = /^(?!0000)\d{4}-(0[1-9]|1[0-2])$/;

/** The UTC month of a time, `YYYY-MM`: the period a ledger row belongs to. */
export function periodOf(at: Date): string {
  return at.toISOString().slice(0, 7);
}
