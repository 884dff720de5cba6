import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

/** A plugin developer's Stripe Express connected account: one per user, created once. */
@Entity('plugin_developer_accounts')
export class DeveloperAccount {
  @ForeignKey('User', { onDelete: 'CASCADE' })
  @PrimaryColumn('uuid')
  userId!: string;

  @Index('uq_plugin_developer_accounts_stripe', { unique: true })
  @Column('varchar', { length: 255 })
  stripeAccountId!: string;

  /** From Stripe's account.updated: transfers may be sent only when true. */
  @Column('boolean', { default: false })
  payoutsEnabled!: boolean;

  @Column('boolean', { default: false })
  detailsSubmitted!: boolean;

  /** The newest account.updated applied: an older one arriving late changes nothing. */
  @Column('timestamptz', { nullable: true })
  lastEventAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
