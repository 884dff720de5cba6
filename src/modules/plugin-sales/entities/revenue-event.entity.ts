import { randomUUID } from 'node:crypto';
import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export const REVENUE_KINDS = ['sale', 'refund'] as const;
export type RevenueKind = (typeof REVENUE_KINDS)[number];

/**
 * The marketplace's ledger: one row per sale (positive) and per refund
 * (negative), split between the developer and the platform in integer cents
 * that always add up to the amount. Rows are never updated but to record the
 * transfer that paid them out. No foreign keys: money records outlive the
 * accounts and plugins they name.
 */
@Entity('plugin_revenue_events')
@Check('ck_plugin_revenue_events_kind', `kind IN (${REVENUE_KINDS.map((k) => `'${k}'`).join(', ')})`)
@Check('ck_plugin_revenue_events_split', 'developer_share_cents + platform_share_cents = amount_cents')
@Check('ck_plugin_revenue_events_period', `period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'`)
@Index('ix_plugin_revenue_events_developer_period', ['developerId', 'period'])
@Index('ix_plugin_revenue_events_payment', ['paymentId'])
export class RevenueEvent {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  /** What makes the event once: the PaymentIntent of a sale, `refund:<charge>:<refunded so far>` of a refund. */
  @Index('uq_plugin_revenue_events_ref', { unique: true })
  @Column('varchar', { length: 255 })
  ref!: string;

  @Column('varchar', { length: 16 })
  kind!: RevenueKind;

  @Column('varchar', { length: 64 })
  pluginId!: string;

  /** The plugin's author at the time of the sale: who is owed the developer share. */
  @Column('uuid')
  developerId!: string;

  @Column('uuid')
  buyerId!: string;

  /** Stripe's PaymentIntent of the sale (a refund names the sale it refunds). */
  @Column('varchar', { length: 255 })
  paymentId!: string;

  /** Signed integer cents: positive for a sale, negative for a refund. */
  @Column('integer')
  amountCents!: number;

  @Column('integer')
  developerShareCents!: number;

  @Column('integer')
  platformShareCents!: number;

  @Column('varchar', { length: 3 })
  currency!: string;

  /** The UTC month it happened in, `YYYY-MM`. */
  @Column('char', { length: 7 })
  period!: string;

  /**
   * What settled the developer share: the Stripe transfer, the transfer reversals (comma-separated) of a
   * payout that had to take money back, or `netted:<period>` when sales and refunds cancelled out; null while unpaid.
   */
  @Column('text', { nullable: true })
  transferId!: string | null;

  /**
   * The payout that claimed the row (committed before any money moves, so a crash between the transfer and
   * `transfer_id` being written leaves the row claimed by its payout, which the next run finishes).
   */
  @Index('ix_plugin_revenue_events_payout')
  @Column('uuid', { nullable: true })
  payoutId!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
