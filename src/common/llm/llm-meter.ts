import type { Tier } from '../tiers/tiers.js';

/** One model call about to be made, for the budget (never any content). */
export interface MeteredCall {
  userId: string;
  /** The user's tier, read for this request: whose daily budget applies. */
  tier: Tier;
  model: string;
  kind: 'chat' | 'embedding';
  /** An estimate of the prompt's tokens (the provider's count comes after). */
  promptTokens: number;
  /** The most the call may write (max_tokens); 0 for embeddings. */
  maxOutputTokens: number;
}

/** A call's usage once known: the provider's figures, or an estimate when it sent none. */
export interface MeteredUsage {
  promptTokens: number;
  completionTokens: number;
  estimated: boolean;
}

/** A call's worst case held against the day's budget until the call ends. */
export interface MeterReservation {
  /** Records the call (priced) and gives back the rest of what was held. Never throws. */
  settle(usage: MeteredUsage): Promise<void>;
  /**
   * Gives back all that was held, recording nothing: only for a call that
   * provably never reached the provider, or that the provider refused with an
   * error status (see call-billing.ts). A call cut after sending is settled. Never throws.
   */
  release(): Promise<void>;
}

/**
 * What the model ports ask before every call that belongs to a user: the
 * usage module reserves the call's worst case against the user's daily
 * budget, and throws 402 `spend_limit_reached` when it cannot. Only the
 * contract lives here; the budget, the prices and the ledger are usage's.
 */
export interface LlmMeter {
  reserve(call: MeteredCall): Promise<MeterReservation>;
}
