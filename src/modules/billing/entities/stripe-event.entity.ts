import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Every verified webhook event, stored before it is acted on; processed once. */
@Entity('stripe_events')
export class StripeEvent {
  @PrimaryColumn('varchar', { length: 255 })
  id!: string;

  @Column('varchar', { length: 128 })
  type!: string;

  /** Stripe's `created` (seconds) as a time. */
  @Column('timestamptz')
  created!: Date;

  @Column('jsonb')
  payload!: Record<string, unknown>;

  @Column('timestamptz', { default: () => 'now()' })
  receivedAt!: Date;

  @Column('timestamptz', { nullable: true })
  processedAt!: Date | null;

  /** What processing concluded (applied, stale, ignored: reason). */
  @Column('varchar', { length: 200, nullable: true })
  outcome!: string | null;
}
