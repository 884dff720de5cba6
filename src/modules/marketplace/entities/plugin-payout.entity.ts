import { randomUUID } from 'node:crypto';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One payout run's settlement for one developer and period: at most one
 * (unique), so running the payouts twice pays once. `amount_cents` is what
 * moved: positive for a transfer, negative for transfer reversals (refunds of
 * shares paid earlier, with nothing left to net against).
 */
@Entity('plugin_payouts')
@Index('uq_plugin_payouts_developer_period', ['developerId', 'period'], { unique: true })
export class PluginPayout {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  @Column('uuid')
  developerId!: string;

  @Column('char', { length: 7 })
  period!: string;

  @Column('integer')
  amountCents!: number;

  @Column('varchar', { length: 3 })
  currency!: string;

  /** The transfer, or the reversals (comma-separated) of a negative settlement. */
  @Column('text')
  stripeIds!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
