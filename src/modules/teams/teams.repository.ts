import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { Team } from './entities/team.entity.js';
import { TeamMember, type TeamRole } from './entities/team-member.entity.js';

/** A team with the role the asking account holds in it. */
export interface TeamWithRole {
  team: Team;
  role: TeamRole;
}

/** Teams and their members. */
@Injectable()
export class TeamsRepository {
  constructor(
    @InjectRepository(Team) private readonly teams: Repository<Team>,
    @InjectRepository(TeamMember) private readonly members: Repository<TeamMember>,
  ) {}

  /** The new team, or null when the billing account has one already (a concurrent create included). */
  async insertTeam(tx: Tx, team: Pick<Team, 'name' | 'billingUserId'>): Promise<Team | null> {
    const manager = managerOf(tx);
    const row = manager.create(Team, team);
    const inserted = await manager.query<Array<{ created_at: Date }>>(
      `INSERT INTO teams (id, name, billing_user_id) VALUES ($1, $2, $3)
       ON CONFLICT (billing_user_id) DO NOTHING RETURNING created_at`,
      [row.id, row.name, row.billingUserId],
    );
    if (inserted.length === 0) return null;
    row.createdAt = inserted[0].created_at;
    return row;
  }

  async findTeam(id: string, tx?: Tx): Promise<Team | null> {
    const manager = managerOf(tx, this.teams.manager);
    return manager.findOneBy(Team, { id });
  }

  async teamOfBillingUser(billingUserId: string, tx?: Tx): Promise<Team | null> {
    const manager = managerOf(tx, this.teams.manager);
    return manager.findOneBy(Team, { billingUserId });
  }

  /**
   * The team, locked for the rest of `tx`: every change of who holds a seat
   * (a member joining, an invite made) takes it first, so two of them for the
   * last seat are counted one after the other.
   */
  async lockTeam(tx: Tx, id: string): Promise<Team | null> {
    const manager = managerOf(tx);
    return manager.findOne(Team, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  async memberOf(teamId: string, userId: string, tx?: Tx): Promise<TeamMember | null> {
    const manager = managerOf(tx, this.members.manager);
    return manager.findOneBy(TeamMember, { teamId, userId });
  }

  async insertMember(
    tx: Tx,
    member: Pick<TeamMember, 'teamId' | 'userId' | 'role' | 'joinedVia'>,
  ): Promise<void> {
    const manager = managerOf(tx);
    await manager.insert(TeamMember, manager.create(TeamMember, member));
  }

  async countMembers(tx: Tx, teamId: string): Promise<number> {
    return managerOf(tx).countBy(TeamMember, { teamId });
  }

  async countOwners(tx: Tx, teamId: string): Promise<number> {
    return managerOf(tx).countBy(TeamMember, { teamId, role: 'owner' });
  }

  /** Invites still holding a seat: neither accepted nor revoked, and not expired. */
  async countPendingInvites(tx: Tx, teamId: string): Promise<number> {
    const [row] = await managerOf(tx).query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM team_invites
        WHERE team_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()`,
      [teamId],
    );
    return row?.n ?? 0;
  }

  /** The teams the user is a member of, oldest membership first. */
  async teamsOfMember(userId: string): Promise<TeamWithRole[]> {
    const rows = await this.members.find({ where: { userId }, order: { joinedAt: 'ASC', teamId: 'ASC' } });
    if (rows.length === 0) return [];
    const teams = await this.teams.findBy(rows.map((row) => ({ id: row.teamId })));
    const byId = new Map(teams.map((team) => [team.id, team]));
    return rows.flatMap((row) => {
      const team = byId.get(row.teamId);
      return team ? [{ team, role: row.role }] : [];
    });
  }

  /** A page of the team's members, owners first, then by when they joined. */
  async membersPage(teamId: string, page: number, limit: number): Promise<[TeamMember[], number]> {
    return this.members
      .createQueryBuilder('m')
      .where('m.team_id = :teamId', { teamId })
      .orderBy(`CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END`, 'ASC')
      .addOrderBy('m.joined_at', 'ASC')
      .addOrderBy('m.user_id', 'ASC')
      .limit(limit)
      .offset((page - 1) * limit)
      .getManyAndCount();
  }

  async lockMember(tx: Tx, teamId: string, userId: string): Promise<TeamMember | null> {
    const manager = managerOf(tx);
    return manager.findOne(TeamMember, { where: { teamId, userId }, lock: { mode: 'pessimistic_write' } });
  }

  async setRole(tx: Tx, teamId: string, userId: string, role: TeamRole): Promise<void> {
    await managerOf(tx).update(TeamMember, { teamId, userId }, { role });
  }

  async deleteMember(tx: Tx, teamId: string, userId: string): Promise<void> {
    await managerOf(tx).delete(TeamMember, { teamId, userId });
  }
}
