import type { Tier } from '../tiers/tiers.js';
import type { LlmMeter } from './llm-meter.js';

/**
 * Turns a text into a vector of the configured dimension (503 when no model
 * endpoint is configured). The text is used for this one call:
 * implementations must neither store nor log it. A call for a user is
 * reserved against their budget and recorded through the meter.
 */
export abstract class Embeddings {
  protected meter: LlmMeter | undefined;

  useMeter(meter: LlmMeter): void {
    this.meter = meter;
  }

  abstract embed(text: string, user?: { id: string; tier: Tier }): Promise<number[]>;
}
