import { randomUUID } from 'node:crypto';
import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export const DUPLICATE_PAYMENT_STATUSES = ['refund_pending', 'refunded'] as const;
export type DuplicatePaymentStatus = (typeof DUPLICATE_PAYMENT_STATUSES)[number];

/**
 * A payment for a plugin the buyer already owned (a Checkout paid after a
 * saved-card purchase, a bank debit that cleared after another payment): it
 * is refunded in full, once, and kept here with the refund. No foreign keys:
 * money records outlive the accounts and plugins they name.
 */
@Entity('plugin_duplicate_payments')
@Check(
  'ck_plugin_duplicate_payments_status',
  `status IN (${DUPLICATE_PAYMENT_STATUSES.map((s) => `'${s}'`).join(', ')})`,
)
export class PluginDuplicatePayment {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  /** Stripe's PaymentIntent that paid twice: one row, so one refund, however often its events arrive. */
  @Index('uq_plugin_duplicate_payments_payment', { unique: true })
  @Column('varchar', { length: 255 })
  paymentId!: string;

  @Column('uuid')
  buyerId!: string;

  @Column('varchar', { length: 64 })
  pluginId!: string;

  /** The payment the buyer owns the plugin by. */
  @Column('varchar', { length: 255 })
  ownedByPaymentId!: string;

  @Column('integer')
  amountCents!: number;

  @Column('varchar', { length: 3 })
  currency!: string;

  @Column('varchar', { length: 16, default: 'refund_pending' })
  status!: DuplicatePaymentStatus;

  /** Stripe's refund, once made. */
  @Column('varchar', { length: 255, nullable: true })
  refundId!: string | null;

  @Column('timestamptz', { nullable: true })
  refundedAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
