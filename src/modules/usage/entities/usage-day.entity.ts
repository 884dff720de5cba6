import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { bigintNumber } from './bigint.transformer.js';

/**
 * A user's totals for one UTC day, kept with the ledger in one transaction,
 * and what running calls hold against the budget (`reserved`). The budget
 * check is one conditional UPDATE of this row, so parallel calls cannot
 * overshoot it.
 */
@Entity('usage_days')
export class UsageDay {
  /** The owner; referenced by entity name so this module does not import the auth module's entities. */
  @ForeignKey('User', { onDelete: 'CASCADE' })
  @PrimaryColumn('uuid')
  userId!: string;

  @PrimaryColumn('date')
  day!: string;

  @Column('integer', { default: 0 })
  requests!: number;

  @Column('bigint', { default: 0, transformer: bigintNumber })
  promptTokens!: number;

  @Column('bigint', { default: 0, transformer: bigintNumber })
  completionTokens!: number;

  @Column('bigint', { default: 0, transformer: bigintNumber })
  costMicroUsd!: number;

  /** Worst cases of the calls running now, held against the budget until they settle. */
  @Column('bigint', { default: 0, transformer: bigintNumber })
  reservedMicroUsd!: number;

  /** When the 80 % alert went out (once a day). */
  @Column('timestamptz', { nullable: true })
  alertedAt!: Date | null;
}
