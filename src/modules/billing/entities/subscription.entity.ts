import { randomUUID } from 'node:crypto';
import {
  Column,
  CreateDateColumn,
  Entity,
  ForeignKey,
  Index,
  PrimaryColumn,
  Unique,
  UpdateDateColumn,
} from 'typeorm';

/** A user's Stripe subscription, as the webhooks last described it. One per user. */
@Entity('subscriptions')
// One subscription per user (the constraint keeps the name it was created with).
@Unique('REL_d0a95ef8a28188364c546eb65c', ['userId'])
export class Subscription {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  /** The owner; referenced by entity name so the billing module does not import the auth module's entities. */
  @ForeignKey('User', { onDelete: 'CASCADE' })
  @Column('uuid')
  userId!: string;

  @Index('uq_subscriptions_stripe_subscription_id', {
    unique: true,
    where: 'stripe_subscription_id IS NOT NULL',
  })
  @Column('varchar', { length: 255, nullable: true })
  stripeSubscriptionId!: string | null;

  @Column('varchar', { length: 255, nullable: true })
  stripeCustomerId!: string | null;

  /** pro | power | team */
  @Column('varchar', { length: 16 })
  tier!: string;

  /** Stripe's status: active, trialing, past_due, canceled, unpaid, incomplete… */
  @Column('varchar', { length: 32 })
  status!: string;

  @Column('timestamptz', { nullable: true })
  currentPeriodEnd!: Date | null;

  @Column('boolean', { default: false })
  cancelAtPeriodEnd!: boolean;

  @Column('int', { default: 1 })
  seats!: number;

  /** `created` of the newest event applied; older events never overwrite newer state. */
  @Column('timestamptz', { nullable: true })
  lastEventAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
