import { randomUUID } from 'node:crypto';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** Who an external sign-in goes through. */
export type SignInProvider = 'oidc' | 'github';

/**
 * A sign-in begun at a provider and not yet back: what the callback checks the answer against.
 * Found by the SHA-256 of its `state` (the state itself is never stored), used once, 10 minutes.
 */
@Entity('sign_in_attempts')
export class SignInAttempt {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  @Index('uq_sign_in_attempts_state', { unique: true })
  @Column('char', { length: 64 })
  stateHash!: string;

  @Column('varchar', { length: 16 })
  provider!: SignInProvider;

  /** The team whose connection signs in (oidc only). */
  @Column('uuid', { nullable: true })
  teamId!: string | null;

  /** The OIDC nonce the ID token must carry (not a secret: it travels in the authorization URL). */
  @Column('varchar', { length: 128, nullable: true })
  nonce!: string | null;

  /** The PKCE code verifier, encrypted like connection secrets. */
  @Column('text')
  codeVerifierEncrypted!: string;

  /** Where the client is sent back with its one-time code (checked against the allowlist at start). */
  @Column('varchar', { length: 2048 })
  redirectUri!: string;

  @Index('ix_sign_in_attempts_expires')
  @Column('timestamptz')
  expiresAt!: Date;

  @Column('timestamptz', { nullable: true })
  usedAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
