import { randomUUID } from 'node:crypto';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { Role } from '../../../common/auth/auth-user.js';
import type { Tier } from '../../../common/tiers/tiers.js';

export type { Role };

@Entity('users')
export class User {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  /** Trimmed and lower-cased on the way in, so uniqueness is case-insensitive. */
  @Index('uq_users_email', { unique: true })
  @Column('varchar', { length: 320 })
  email!: string;

  /** Null for accounts made by single sign-on or GitHub: they have no password to sign in with. */
  @Column('varchar', { length: 255, nullable: true })
  passwordHash!: string | null;

  @Column('varchar', { length: 16, default: 'user' })
  role!: Role;

  /** Tier set by an admin; wins over the subscription and DEFAULT_TIER when set. */
  @Column('varchar', { length: 16, nullable: true })
  tierOverride!: Tier | null;

  @Column('timestamptz', { nullable: true })
  disabledAt!: Date | null;

  /** Created once, at the first checkout, and kept. */
  @Index('uq_users_stripe_customer_id', { unique: true, where: 'stripe_customer_id IS NOT NULL' })
  @Column('varchar', { length: 255, nullable: true })
  stripeCustomerId!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
