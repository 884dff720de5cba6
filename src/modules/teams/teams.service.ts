import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import type { Tier } from '../../common/tiers/tiers.js';
import { type Tx, UnitOfWork } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import { AccountsService } from '../auth/index.js';
import { TeamSeatsService } from '../billing/index.js';
import { mapTeam, type TeamDto, type TeamListDto } from './dto/teams.dto.js';
import type { Team } from './entities/team.entity.js';
import type { MemberSource, TeamRole } from './entities/team-member.entity.js';
import { TeamsRepository } from './teams.repository.js';
import { teamNotFound, TeamsException } from './teams.errors.js';

/** How a team's seats stand: paid for, and taken by members and pending invites. */
export interface SeatCount {
  /** null: the billing account holds the Team tier without a Stripe subscription (an admin's grant, DEFAULT_TIER), so seats are not counted. */
  seats: number | null;
  members: number;
  pendingInvites: number;
}

/**
 * Teams and who is in them: the membership rules every other part of the app
 * (routes, invitations, single sign-on) goes through. A non-member is told a
 * team does not exist (404); a member without the role needed gets 403.
 */
@Injectable()
export class TeamsService {
  constructor(
    private readonly teams: TeamsRepository,
    private readonly seatsOfBilling: TeamSeatsService,
    private readonly audit: AuditService,
    private readonly accounts: AccountsService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  /** The team, or null when there is none with this id (no membership check: callers scope it). */
  findTeam(teamId: string): Promise<Team | null> {
    return this.teams.findTeam(teamId);
  }

  /**
   * The team when `userId` is a member holding one of `roles`: 404 when the team
   * is unknown or the user is not in it, 403 `role_required` when the user's
   * role is not among `roles`.
   */
  async requireRole(teamId: string, userId: string, roles: readonly TeamRole[], tx?: Tx): Promise<Team> {
    const [team, member] = await Promise.all([
      this.teams.findTeam(teamId, tx),
      this.teams.memberOf(teamId, userId, tx),
    ]);
    if (!team || !member) throw teamNotFound();
    if (!roles.includes(member.role))
      throw new TeamsException(
        'role_required',
        `This needs the ${roles.join(' or ')} role in the team; yours is ${member.role}`,
        { required_roles: [...roles] },
      );
    return team;
  }

  /** The role `userId` holds in the team, or null when not a member. */
  async roleOf(teamId: string, userId: string, tx?: Tx): Promise<TeamRole | null> {
    return (await this.teams.memberOf(teamId, userId, tx))?.role ?? null;
  }

  /**
   * Makes `userId` a member with `role`, within the seat count: an existing
   * member is left as is (`added: false`); with no seat free 402
   * `seats_exhausted`. Pending invites hold seats: a join through single
   * sign-on (`sso`) needs a seat beyond them, while accepting an invite
   * (`invite`, the invite's own seat) needs only a seat beyond the members, so
   * when the seats were lowered below the pending invites the first accepted
   * wins. The team row is locked first, so of two joins for the last seat
   * exactly one gets it. Audited, with the member's tier change. Runs in the
   * caller's transaction when given one.
   */
  async addMember(
    teamId: string,
    userId: string,
    role: TeamRole,
    via: Extract<MemberSource, 'invite' | 'sso'>,
    tx?: Tx,
  ): Promise<{ added: boolean }> {
    return this.unitOfWork.runIn(tx, async (work) => {
      const team = await this.teams.lockTeam(work, teamId);
      if (!team) throw teamNotFound();
      if (await this.teams.memberOf(teamId, userId, work)) return { added: false };
      await this.assertSeatFree(work, team, { pendingInvitesHoldSeats: via !== 'invite' });
      const before = await this.accounts.effectiveTierOf(userId, work);
      await this.teams.insertMember(work, { teamId, userId, role, joinedVia: via });
      await this.audit.record(
        {
          eventType: 'team.member_added',
          actorId: userId,
          subjectId: teamId,
          data: { user_id: userId, role, via },
        },
        work,
      );
      await this.recordTierChange(work, userId, before, `joined team ${teamId} (${via})`);
      return { added: true };
    });
  }

  /** The seats of the team and how many are taken; read inside `tx` (which should hold the team's lock to rely on it). */
  async seatCount(tx: Tx, team: Team): Promise<SeatCount> {
    const [billing, members, pendingInvites] = await Promise.all([
      this.seatsOfBilling.seatsOf(team.billingUserId, tx),
      this.teams.countMembers(tx, team.id),
      this.teams.countPendingInvites(tx, team.id),
    ]);
    return { seats: billing?.seats ?? (await this.unbilledSeats(tx, team)), members, pendingInvites };
  }

  /**
   * The seats of a team whose billing account has no Team subscription: not
   * counted (null) while that account holds the Team tier otherwise (an
   * admin's grant, DEFAULT_TIER); none (0) when it does not, e.g. the owner a
   * team passed to when its paying account was erased, until they subscribe.
   */
  private async unbilledSeats(tx: Tx, team: Team): Promise<number | null> {
    return (await this.accounts.effectiveTierOf(team.billingUserId, tx)) === 'team' ? null : 0;
  }

  /** 402 `seats_exhausted` unless one more seat is free (beyond the pending invites too, unless told otherwise); call with the team locked. */
  async assertSeatFree(tx: Tx, team: Team, options = { pendingInvitesHoldSeats: true }): Promise<void> {
    const count = await this.seatCount(tx, team);
    const taken = count.members + (options.pendingInvitesHoldSeats ? count.pendingInvites : 0);
    if (count.seats === null || taken < count.seats) return;
    throw new TeamsException(
      'seats_exhausted',
      `All ${count.seats} seats of this team are taken (${count.members} members, ${count.pendingInvites} ` +
        'pending invites): an owner adds seats with PATCH /api/v1/teams/{id}/seats, or revokes an invite',
      { seats: count.seats, members: count.members, pending_invites: count.pendingInvites },
    );
  }

  /**
   * Audits the change of the user's effective tier a change of membership made, if it made one;
   * `actorId` null when nobody acted (an erasure).
   */
  async recordTierChange(
    tx: Tx,
    userId: string,
    before: Tier,
    reason: string,
    actorId: string | null = userId,
  ): Promise<void> {
    const after = await this.accounts.effectiveTierOf(userId, tx);
    await this.accounts.recordTierChange({ userId, from: before, to: after, actorId, reason }, tx);
  }

  /** The team as its member sees it: 404 for anyone else. */
  async get(user: AuthUser, teamId: string): Promise<TeamDto> {
    const team = await this.requireRole(teamId, user.id, ['owner', 'admin', 'member']);
    return this.unitOfWork.run(async (tx) => {
      const role = (await this.teams.memberOf(teamId, user.id, tx))?.role;
      if (!role) throw teamNotFound();
      return mapTeam(team, role, await this.seatCount(tx, team));
    });
  }

  /** The teams the user is a member of, with the user's role in each. */
  async mine(user: AuthUser): Promise<TeamListDto> {
    const memberships = await this.teams.teamsOfMember(user.id);
    return this.unitOfWork.run(async (tx) => ({
      teams: await Promise.all(
        memberships.map(async ({ team, role }) => mapTeam(team, role, await this.seatCount(tx, team))),
      ),
    }));
  }

  /** Creates a team owned (and paid for) by `user`, who must hold the Team tier on this request. */
  async create(user: AuthUser, name: string): Promise<TeamDto> {
    if (user.tier !== 'team')
      throw new TeamsException(
        'tier_required',
        `Creating a team requires the team tier; your tier is ${user.tier}. ` +
          'Upgrade with POST /api/v1/billing/checkout {tier: "team", seats}.',
        { required_tier: 'team' },
      );
    return this.unitOfWork.run(async (tx) => {
      const team = await this.teams.insertTeam(tx, { name, billingUserId: user.id });
      if (!team)
        throw new TeamsException(
          'duplicate',
          'This account already pays for a team (one team per Team subscription): see GET /api/v1/teams/mine',
        );
      await this.teams.insertMember(tx, {
        teamId: team.id,
        userId: user.id,
        role: 'owner',
        joinedVia: 'created',
      });
      await this.audit.record(
        { eventType: 'team.created', actorId: user.id, subjectId: team.id, data: { name } },
        tx,
      );
      return mapTeam(team, 'owner', await this.seatCount(tx, team));
    });
  }
}
