import { randomUUID } from 'node:crypto';
import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

/**
 * A team workspace. Its seats are the quantity of the Stripe subscription of
 * its billing account (the Team-tier account that created it), read from
 * billing; the team keeps no copy of the count, so the webhook is the one
 * writer of it.
 */
@Entity('teams')
export class Team {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  @Column('varchar', { length: 100 })
  name!: string;

  /**
   * The account whose subscription pays the seats; referenced by entity name so the
   * teams module does not import the auth module's entities. One team per billing
   * account: a second team would reuse the same paid seats.
   */
  @ForeignKey('User', { onDelete: 'CASCADE' })
  @Index('uq_teams_billing_user_id', { unique: true })
  @Column('uuid')
  billingUserId!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
