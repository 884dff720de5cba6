import { DEFAULT_PRICES } from '../../config/model-prices.js';
import { modelId } from '../../config/model-ref.js';

export { DEFAULT_PRICES };

/**
 * A model nobody priced costs what gpt-4o costs. The start refuses an unpriced model while
 * budgets are on, so this only prices what a deployment without budgets records.
 */
export const FALLBACK_MODEL = 'openai:gpt-4o';

/**
 * Prices in nano-USD per token (USD per million tokens × 1,000), integers so
 * the arithmetic is exact for prices with up to three decimals.
 */
export class PriceTable {
  private readonly nano = new Map<string, [number, number]>();

  constructor(overrides: Record<string, [number, number]> = {}) {
    for (const [model, [input, output]] of Object.entries({ ...DEFAULT_PRICES, ...overrides })) {
      this.nano.set(model, [Math.round(input * 1000), Math.round(output * 1000)]);
    }
  }

  /** USD per million tokens [input, output] of `model`, or undefined when it has no price. */
  perMillion(model: string): [number, number] | undefined {
    const nano = this.nano.get(modelId(model));
    return nano && [nano[0] / 1000, nano[1] / 1000];
  }

  /**
   * A call's cost in micro-USD, rounded up: ceil((prompt × input + completion × output) / 1000).
   * `model` as the ledger records it (`gpt-4o` is `openai:gpt-4o`).
   */
  costMicroUsd(model: string, promptTokens: number, completionTokens: number): number {
    const [input, output] = this.nano.get(modelId(model)) ?? this.nano.get(FALLBACK_MODEL)!;
    return Math.ceil((promptTokens * input + completionTokens * output) / 1000);
  }
}

export const MICRO = 1_000_000;

/** The UTC day of `at` as YYYY-MM-DD. */
export const utcDay = (at: Date = new Date()): string => at.toISOString().slice(0, 10);

/** The next UTC midnight after `day` (when its budget resets), in ms since the epoch. */
export const resetsAt = (day: string): number => Date.parse(`${day}T00:00:00.000Z`) + 86_400_000;
