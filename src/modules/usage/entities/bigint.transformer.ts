import type { ValueTransformer } from 'typeorm';

/** bigint columns as numbers (micro-USD and token sums stay far below 2^53). */
export const bigintNumber: ValueTransformer = {
  to: (value: number | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};
