import { randomUUID } from 'node:crypto';
import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import type { TeamRole } from './team-member.entity.js';

/**
 * An invitation to a team for one email address. Only the SHA-256 of its
 * token is stored (the raw token is answered once, to the inviter); it is
 * pending until accepted, revoked or expired, and a pending invite holds a seat.
 */
@Entity('team_invites')
@Index('ix_team_invites_team_id', ['teamId', 'createdAt'])
export class TeamInvite {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  @ForeignKey('Team', { onDelete: 'CASCADE' })
  @Column('uuid')
  teamId!: string;

  /** Normalised (trimmed, lower-case) as account emails are. */
  @Column('varchar', { length: 320 })
  email!: string;

  @Column('varchar', { length: 16 })
  role!: TeamRole;

  @Index('uq_team_invites_token_hash', { unique: true })
  @Column('char', { length: 64 })
  tokenHash!: string;

  /** Who invited; kept when they leave the team, cleared when their account is deleted. */
  @ForeignKey('User', { onDelete: 'SET NULL' })
  @Column('uuid', { nullable: true })
  invitedBy!: string | null;

  @Column('timestamptz')
  expiresAt!: Date;

  @Column('timestamptz', { nullable: true })
  acceptedAt!: Date | null;

  @ForeignKey('User', { onDelete: 'SET NULL' })
  @Column('uuid', { nullable: true })
  acceptedBy!: string | null;

  @Column('timestamptz', { nullable: true })
  revokedAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
