import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsInt, IsString, Length, Max, MaxLength, Min } from 'class-validator';
import { PageOf } from '../../../common/dto/pagination.dto.js';
import { normaliseEmailField } from '../../../common/input/email.js';
import type { Team } from '../entities/team.entity.js';
import type { TeamInvite } from '../entities/team-invite.entity.js';
import {
  MEMBER_SOURCES,
  type MemberSource,
  TEAM_ROLES,
  type TeamRole,
} from '../entities/team-member.entity.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** The most seats one team may buy: far above any real team, below anything that overflows a count. */
export const MAX_SEATS = 10_000;

export class CreateTeamDto {
  @ApiProperty({ example: 'Acme', minLength: 1, maxLength: 100, description: 'Trimmed' })
  @Transform(trim)
  @IsString()
  @Length(1, 100, { message: 'name must be 1 to 100 characters long' })
  name!: string;
}

export class TeamDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'Acme' })
  name!: string;

  @ApiProperty({ enum: TEAM_ROLES, description: 'The role of the signed-in account in this team' })
  role!: TeamRole;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    description:
      'Seats of the Team subscription; null when the team is not billed per seat (the billing account holds ' +
      'the Team tier through an admin or DEFAULT_TIER), so seats are not counted',
  })
  seats!: number | null;

  @ApiProperty({ type: 'integer', description: 'Members, each taking one seat' })
  members!: number;

  @ApiProperty({
    type: 'integer',
    description: 'Pending invites, each holding one seat until accepted, revoked or expired',
  })
  pending_invites!: number;

  @ApiProperty({ format: 'uuid', description: 'The account whose Team subscription pays the seats' })
  billing_user_id!: string;

  @ApiProperty({ example: 1767225600000 })
  created_at!: number;
}

export class TeamListDto {
  @ApiProperty({ type: [TeamDto] })
  teams!: TeamDto[];
}

export class TeamMemberDto {
  @ApiProperty({ format: 'uuid' })
  user_id!: string;

  @ApiProperty({ example: 'ada@example.com' })
  email!: string;

  @ApiProperty({ enum: TEAM_ROLES })
  role!: TeamRole;

  @ApiProperty({
    enum: MEMBER_SOURCES,
    description: 'created the team, accepted an invite, or signed in through SSO',
  })
  joined_via!: MemberSource;

  @ApiProperty({ example: 1767225600000 })
  joined_at!: number;
}

export class TeamMemberPageDto extends PageOf(TeamMemberDto) {}

export class UpdateMemberRoleDto {
  @ApiProperty({ enum: TEAM_ROLES })
  @IsIn(TEAM_ROLES, { message: `role must be one of ${TEAM_ROLES.join(', ')}` })
  role!: TeamRole;
}

export class UpdateSeatsDto {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_SEATS, example: 5 })
  @IsInt({ message: 'seats must be a whole number' })
  @Min(1)
  @Max(MAX_SEATS)
  seats!: number;
}

export class SeatsDto {
  @ApiProperty({
    type: 'integer',
    description: 'Seats of the Team subscription, as Stripe answered the change',
  })
  seats!: number;

  @ApiProperty({ type: 'integer' })
  members!: number;

  @ApiProperty({ type: 'integer' })
  pending_invites!: number;
}

export class CreateInviteDto {
  @ApiProperty({ example: 'grace@example.com', description: 'Trimmed; compared case-insensitively' })
  @Transform(normaliseEmailField)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(320)
  email!: string;

  @ApiProperty({ enum: TEAM_ROLES, description: 'The role the invitee gets; only an owner invites an owner' })
  @IsIn(TEAM_ROLES, { message: `role must be one of ${TEAM_ROLES.join(', ')}` })
  role!: TeamRole;
}

export class InviteDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'grace@example.com' })
  email!: string;

  @ApiProperty({ enum: TEAM_ROLES })
  role!: TeamRole;

  @ApiProperty({
    format: 'uuid',
    nullable: true,
    description: 'Who invited (null once their account is deleted)',
  })
  invited_by!: string | null;

  @ApiProperty({ example: 1767830400000 })
  expires_at!: number;

  @ApiProperty({ example: 1767225600000 })
  created_at!: number;
}

export class InvitePageDto extends PageOf(InviteDto) {}

export class CreatedInviteDto extends InviteDto {
  @ApiProperty({ description: 'The single-use invitation token, answered only this once (stored hashed)' })
  token!: string;

  @ApiProperty({
    example: 'https://api.example.com/api/v1/teams/invites/tinv_…',
    description:
      'What to send the invitee (PUBLIC_URL + the public invite route); the token is its last segment',
  })
  accept_url!: string;
}

export class InvitePreviewDto {
  @ApiProperty({ example: 'Acme' })
  team_name!: string;

  @ApiProperty({
    example: 'ada@example.com',
    nullable: true,
    description: 'null once the inviter’s account is deleted',
  })
  inviter_email!: string | null;

  @ApiProperty({ example: 'grace@example.com', description: 'The account email that can accept it' })
  email!: string;

  @ApiProperty({ enum: TEAM_ROLES })
  role!: TeamRole;

  @ApiProperty({ example: 1767830400000 })
  expires_at!: number;
}

export function mapTeam(
  team: Team,
  role: TeamRole,
  count: { seats: number | null; members: number; pendingInvites: number },
): TeamDto {
  return {
    id: team.id,
    name: team.name,
    role,
    seats: count.seats,
    members: count.members,
    pending_invites: count.pendingInvites,
    billing_user_id: team.billingUserId,
    created_at: team.createdAt.getTime(),
  };
}

export function mapInvite(invite: TeamInvite): InviteDto {
  return {
    id: invite.id,
    email: invite.email,
    role: invite.role,
    invited_by: invite.invitedBy,
    expires_at: invite.expiresAt.getTime(),
    created_at: invite.createdAt.getTime(),
  };
}
