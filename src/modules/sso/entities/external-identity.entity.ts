import { randomUUID } from 'node:crypto';
import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import type { SignInProvider } from './sign-in-attempt.entity.js';

/**
 * An account's identity at a provider (a team's OIDC issuer, GitHub): the provider's stable
 * subject, not the email, is what finds the account on later sign-ins.
 */
@Entity('external_identities')
@Index('uq_external_identities_subject', ['provider', 'issuer', 'subject'], { unique: true })
export class ExternalIdentity {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  @Column('varchar', { length: 16 })
  provider!: SignInProvider;

  /** The OIDC issuer, or `github`. */
  @Column('varchar', { length: 512 })
  issuer!: string;

  @Column('varchar', { length: 255 })
  subject!: string;

  @Index('ix_external_identities_user')
  @ForeignKey('User', { onDelete: 'CASCADE' })
  @Column('uuid')
  userId!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
