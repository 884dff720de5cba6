import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import type { Page } from '../../common/dto/pagination.dto.js';
import { type Tx, UnitOfWork } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import { AccountsService } from '../auth/index.js';
import { TeamSeatsService } from '../billing/index.js';
import type { SeatsDto, TeamMemberDto } from './dto/teams.dto.js';
import type { Team } from './entities/team.entity.js';
import type { TeamMember, TeamRole } from './entities/team-member.entity.js';
import { teamNotFound, TeamsException } from './teams.errors.js';
import { TeamsRepository } from './teams.repository.js';
import { TeamsService } from './teams.service.js';

const ANY_ROLE: readonly TeamRole[] = ['owner', 'admin', 'member'];
const MANAGERS: readonly TeamRole[] = ['owner', 'admin'];

/**
 * Who is in a team and with which role, and how many seats it pays for.
 * Owners manage everyone; admins manage members (never an owner, and they
 * make no owners); anyone may leave; the last owner stays, and so does the
 * account paying the seats.
 */
@Injectable()
export class TeamMembersService {
  constructor(
    private readonly teams: TeamsRepository,
    private readonly membership: TeamsService,
    private readonly seats: TeamSeatsService,
    private readonly accounts: AccountsService,
    private readonly audit: AuditService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async list(user: AuthUser, teamId: string, page: number, limit: number): Promise<Page<TeamMemberDto>> {
    await this.membership.requireRole(teamId, user.id, ANY_ROLE);
    const [members, total] = await this.teams.membersPage(teamId, page, limit);
    const emails = await this.accounts.emailsOf(members.map((member) => member.userId));
    const items = members.map((member) => ({
      user_id: member.userId,
      email: emails.get(member.userId) ?? '',
      role: member.role,
      joined_via: member.joinedVia,
      joined_at: member.joinedAt.getTime(),
    }));
    return { items, total, page, limit };
  }

  async changeRole(user: AuthUser, teamId: string, userId: string, role: TeamRole): Promise<TeamMemberDto> {
    const member = await this.unitOfWork.run(async (tx) => {
      const { team, actorRole, target } = await this.lockForChange(tx, user, teamId, userId);
      this.assertMayManage(actorRole, target.role, user.id === userId);
      if (role === 'owner' && actorRole !== 'owner')
        throw new TeamsException('role_required', 'Only an owner makes another member an owner', {
          required_roles: ['owner'],
        });
      if (target.role === 'owner' && role !== 'owner')
        await this.assertOwnerMayGo(tx, team, userId, 'lose the owner role');
      if (target.role !== role) {
        await this.teams.setRole(tx, teamId, userId, role);
        await this.audit.record(
          {
            eventType: 'team.member_role_changed',
            actorId: user.id,
            subjectId: teamId,
            data: { user_id: userId, from: target.role, to: role },
          },
          tx,
        );
      }
      return { ...target, role };
    });
    const emails = await this.accounts.emailsOf([userId]);
    return {
      user_id: userId,
      email: emails.get(userId) ?? '',
      role: member.role,
      joined_via: member.joinedVia,
      joined_at: member.joinedAt.getTime(),
    };
  }

  /** Removes a member (or lets one leave); their own tier applies from their next request. */
  async remove(user: AuthUser, teamId: string, userId: string): Promise<void> {
    await this.unitOfWork.run(async (tx) => {
      const { team, actorRole, target } = await this.lockForChange(tx, user, teamId, userId);
      const leaving = user.id === userId;
      if (!leaving) this.assertMayManage(actorRole, target.role, false);
      if (target.role === 'owner')
        await this.assertOwnerMayGo(tx, team, userId, leaving ? 'leave' : 'be removed');
      if (userId === team.billingUserId)
        throw new TeamsException(
          'last_owner',
          'The account paying for the team’s seats stays in it: cancel the subscription (DELETE /api/v1/billing/subscription) instead',
        );
      const before = await this.accounts.effectiveTierOf(userId, tx);
      await this.teams.deleteMember(tx, teamId, userId);
      await this.audit.record(
        {
          eventType: leaving ? 'team.member_left' : 'team.member_removed',
          actorId: user.id,
          subjectId: teamId,
          data: { user_id: userId, role: target.role },
        },
        tx,
      );
      await this.membership.recordTierChange(tx, userId, before, `left team ${teamId}`, user.id);
    });
  }

  /**
   * Sets the seats of the team's Team subscription at Stripe (prorated), never
   * below its members. Stripe is called outside any transaction; the count is
   * checked again when the answer is recorded.
   */
  async changeSeats(user: AuthUser, teamId: string, seats: number): Promise<SeatsDto> {
    const team = await this.membership.requireRole(teamId, user.id, ['owner']);
    const before = await this.unitOfWork.run(async (tx) => {
      await this.teams.lockTeam(tx, teamId);
      const count = await this.membership.seatCount(tx, team);
      if (seats < count.members)
        throw new TeamsException(
          'seats_in_use',
          `The team has ${count.members} members: seats cannot go below that; remove members first`,
          { members: count.members },
        );
      return count.seats;
    });
    const now = await this.seats.changeSeats(team.billingUserId, seats);
    return this.unitOfWork.run(async (tx) => {
      await this.audit.record(
        {
          eventType: 'team.seats_changed',
          actorId: user.id,
          subjectId: teamId,
          data: { from: before, to: now },
        },
        tx,
      );
      const count = await this.membership.seatCount(tx, team);
      return { seats: now, members: count.members, pending_invites: count.pendingInvites };
    });
  }

  /** Locks the team and the target member: 404 for a non-member caller, an unknown team or target. */
  private async lockForChange(
    tx: Tx,
    user: AuthUser,
    teamId: string,
    userId: string,
  ): Promise<{ team: Team; actorRole: TeamRole; target: TeamMember }> {
    const team = await this.teams.lockTeam(tx, teamId);
    const actor = team ? await this.teams.memberOf(teamId, user.id, tx) : null;
    if (!team || !actor) throw teamNotFound();
    const target = await this.teams.lockMember(tx, teamId, userId);
    if (!target) throw new TeamsException('not_found', 'No such member in this team');
    return { team, actorRole: actor.role, target };
  }

  /** Owners manage anyone, admins only members; a member manages nobody (but may leave). */
  private assertMayManage(actorRole: TeamRole, targetRole: TeamRole, self: boolean): void {
    if (actorRole === 'owner') return;
    if (actorRole === 'admin' && (targetRole === 'member' || self)) return;
    throw new TeamsException(
      'role_required',
      actorRole === 'admin'
        ? 'Only an owner changes or removes an owner or another admin'
        : 'Only an owner or admin changes or removes other members',
      { required_roles: actorRole === 'admin' ? ['owner'] : [...MANAGERS] },
    );
  }

  private async assertOwnerMayGo(tx: Tx, team: Team, userId: string, what: string): Promise<void> {
    if ((await this.teams.countOwners(tx, team.id)) > 1) return;
    throw new TeamsException(
      'last_owner',
      `The team's last owner cannot ${what}: make another member owner first`,
    );
  }
}
