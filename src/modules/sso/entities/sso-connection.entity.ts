import { Column, CreateDateColumn, Entity, ForeignKey, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * A team's OpenID Connect identity provider: one per team. The client secret is kept
 * encrypted (AES-256-GCM under SSO_ENCRYPTION_KEY), never returned; the provider's metadata
 * is the discovery document validated when the connection was saved.
 */
@Entity('sso_connections')
export class SsoConnection {
  /** The team (referenced by entity name: the teams module owns that table); deleted with it. */
  @ForeignKey('Team', { onDelete: 'CASCADE' })
  @PrimaryColumn('uuid')
  teamId!: string;

  @Column('varchar', { length: 512 })
  issuer!: string;

  @Column('varchar', { length: 255 })
  clientId!: string;

  /** `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts). */
  @Column('text')
  clientSecretEncrypted!: string;

  /** Lower-case email domains; each belongs to one connection (`sso_domains`). */
  @Column('text', { array: true })
  domains!: string[];

  @Column('boolean', { default: false })
  requireSso!: boolean;

  /** The provider's discovery document as validated at save. */
  @Column('jsonb')
  serverMetadata!: Record<string, unknown>;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
