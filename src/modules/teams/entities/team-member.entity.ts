import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

export const TEAM_ROLES = ['owner', 'admin', 'member'] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];

/** How an account became a member: it created the team, accepted an invite, or signed in through the team's SSO. */
export const MEMBER_SOURCES = ['created', 'invite', 'sso'] as const;
export type MemberSource = (typeof MEMBER_SOURCES)[number];

/** One account's membership of one team. Each member takes one seat. */
@Entity('team_members')
// The per-request tier lookup finds a user's teams by user id.
@Index('ix_team_members_user_id', ['userId'])
export class TeamMember {
  @ForeignKey('Team', { onDelete: 'CASCADE' })
  @PrimaryColumn('uuid')
  teamId!: string;

  @ForeignKey('User', { onDelete: 'CASCADE' })
  @PrimaryColumn('uuid')
  userId!: string;

  @Column('varchar', { length: 16 })
  role!: TeamRole;

  @Column('varchar', { length: 16 })
  joinedVia!: MemberSource;

  @CreateDateColumn({ type: 'timestamptz' })
  joinedAt!: Date;
}
