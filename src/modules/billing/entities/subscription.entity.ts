import { randomUUID } from 'node:crypto';
import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  OneToOne,
  PrimaryColumn,
  type Relation,
  UpdateDateColumn,
} from 'typeorm';
import { User } from '../../auth/index.js';

/** A user's Stripe subscription, as the webhooks last described it. One per user. */
@Entity('subscriptions')
export class Subscription {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  /** Unique through the one-to-one relation below. */
  @Column('uuid')
  userId!: string;

  @OneToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;

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
