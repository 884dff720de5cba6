import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { UserOwnedEntity } from '../../../database/user-owned.entity.js';

export const PURCHASE_STATUSES = ['pending', 'paid', 'refunded', 'canceled'] as const;
export type PurchaseStatus = (typeof PURCHASE_STATUSES)[number];

/**
 * A user's purchase of a paid plugin: one row per user and plugin (so two
 * installs at once record one purchase), kept across uninstalls so a
 * reinstall never charges again. A refund keeps the row, marked refunded.
 * `pending` while a delayed payment (a bank debit) is processing: installing
 * again charges nothing, and Stripe's payment_intent.succeeded makes it paid
 * (payment_intent.payment_failed: canceled, and the user may buy again).
 */
@Entity('plugin_purchases')
@Check('ck_plugin_purchases_status', `status IN (${PURCHASE_STATUSES.map((s) => `'${s}'`).join(', ')})`)
@Check('ck_plugin_purchases_amount', 'amount_cents > 0')
@Index('uq_plugin_purchases_user_plugin', ['userId', 'pluginId'], { unique: true })
export class PluginPurchase extends UserOwnedEntity {
  @ForeignKey('Plugin', { onDelete: 'CASCADE' })
  @Column('varchar', { length: 64 })
  pluginId!: string;

  /** What was charged, integer cents of `currency`. */
  @Column('integer')
  amountCents!: number;

  @Column('varchar', { length: 3 })
  currency!: string;

  /** Stripe's PaymentIntent. */
  @Index('uq_plugin_purchases_payment', { unique: true })
  @Column('varchar', { length: 255 })
  paymentId!: string;

  @Column('varchar', { length: 16, default: 'paid' })
  status!: PurchaseStatus;

  @Column('timestamptz', { nullable: true })
  refundedAt!: Date | null;
}
