import { randomUUID } from 'node:crypto';
import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export const PAYOUT_STATUSES = ['pending', 'paid'] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

/**
 * One developer's payout for one period, an outbox row: it is committed
 * `pending`, with the ledger rows it covers claimed (`plugin_revenue_events.payout_id`),
 * before Stripe is called; the transfer (or reversals) is then made outside
 * any transaction with `idempotency_key`; the row is marked `paid` with
 * Stripe's ids. A run that stopped in between is finished by the next one with
 * the same key, or by finding the transfer in its `transfer_group` at Stripe,
 * never by paying again. At most one per developer and period (unique).
 * `amount_cents` is what moves: positive for a transfer, negative for
 * transfer reversals (refunds of shares paid earlier, with nothing left to net
 * against), zero when sales and refunds cancel out.
 */
@Entity('plugin_payouts')
@Index('uq_plugin_payouts_developer_period', ['developerId', 'period'], { unique: true })
@Check('ck_plugin_payouts_status', `status IN (${PAYOUT_STATUSES.map((s) => `'${s}'`).join(', ')})`)
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

  @Column('varchar', { length: 16, default: 'paid' })
  status!: PayoutStatus;

  /**
   * `plugin-payout:<developer>:<digest of the ledger row ids>`: the same rows always give the same key.
   * Rows paid before payouts had keys have a null one.
   */
  @Index('uq_plugin_payouts_idempotency_key', { unique: true })
  @Column('varchar', { length: 255, nullable: true })
  idempotencyKey!: string | null;

  /** The transfer, or the reversals (comma-separated) of a negative settlement; null until paid. */
  @Column('text', { nullable: true })
  stripeIds!: string | null;

  @Column('timestamptz', { nullable: true })
  paidAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
