import { Column, Entity, Index } from 'typeorm';
import { UserOwnedEntity } from '../../../database/user-owned.entity.js';
import { bigintNumber } from './bigint.transformer.js';

/**
 * The per-call ledger: one row per model call of a user, priced. Never any
 * content: no prompt, no answer, no tool arguments.
 */
@Entity('usage_calls')
@Index('ix_usage_calls_user_day', ['userId', 'day'])
@Index('ix_usage_calls_day', ['day'])
export class UsageCall extends UserOwnedEntity {
  /** The UTC day the call was reserved on (YYYY-MM-DD). */
  @Column('date')
  day!: string;

  @Column('varchar', { length: 100 })
  model!: string;

  /** chat or embedding */
  @Column('varchar', { length: 16 })
  kind!: string;

  @Column('integer')
  promptTokens!: number;

  @Column('integer')
  completionTokens!: number;

  @Column('bigint', { transformer: bigintNumber })
  costMicroUsd!: number;

  /** True when the figures are ours (a cut stream, a provider that sent none), not the provider's. */
  @Column('boolean')
  estimated!: boolean;
}
