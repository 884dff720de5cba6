import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import type { SignInProvider } from './sign-in-attempt.entity.js';

/**
 * What a finished external sign-in hands the client: a one-time code (stored as its SHA-256)
 * that POST /auth/…/exchange trades for AuthTokens. `link` codes name an existing password
 * account the external identity is not linked to yet: they open a session only with that
 * account's password (POST /auth/…/link), which also records the link.
 */
@Entity('sign_in_exchange_codes')
export class ExchangeCode {
  @PrimaryColumn('char', { length: 64 })
  codeHash!: string;

  @Column('varchar', { length: 16 })
  provider!: SignInProvider;

  @Column('varchar', { length: 8 })
  kind!: 'sign_in' | 'link';

  @Index('ix_sign_in_exchange_codes_user')
  @ForeignKey('User', { onDelete: 'CASCADE' })
  @Column('uuid')
  userId!: string;

  /** The team a single sign-on joins (oidc), once the code is traded. */
  @Column('uuid', { nullable: true })
  teamId!: string | null;

  /** The identity a `link` code links: its issuer and subject at the provider. */
  @Column('varchar', { length: 512, nullable: true })
  linkIssuer!: string | null;

  @Column('varchar', { length: 255, nullable: true })
  linkSubject!: string | null;

  /** Wrong passwords given with this `link` code; past a few, the code stops working. */
  @Column('int', { default: 0 })
  failedPasswords!: number;

  @Index('ix_sign_in_exchange_codes_expires')
  @Column('timestamptz')
  expiresAt!: Date;

  @Column('timestamptz', { nullable: true })
  usedAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
