import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import type { TeamRole } from './entities/team-member.entity.js';

/** One membership as the account's export shows it. */
export interface MembershipExportRow {
  team_id: string;
  name: string;
  role: TeamRole;
  joined_via: string;
  joined_at: Date;
  pays_for_team: boolean;
}

/** One invitation as the account's export shows it: never its token hash. */
export interface InviteExportRow {
  id: string;
  team_id: string;
  team_name: string;
  email: string;
  role: TeamRole;
  created_at: Date;
  expires_at: Date;
  accepted_at: Date | null;
  revoked_at: Date | null;
}

/** A member staying in a team an erased account leaves. */
export interface StayingMember {
  userId: string;
  role: TeamRole;
}

const INVITE_COLUMNS = `i.id, i.team_id, t.name AS team_name, i.email, i.role, i.created_at, i.expires_at,
  i.accepted_at, i.revoked_at`;

/** What an account's export and erasure read and change of the teams' tables. */
@Injectable()
export class TeamsAccountDataRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  membershipsOf(userId: string): Promise<MembershipExportRow[]> {
    return this.db.query(
      `SELECT m.team_id, t.name, m.role, m.joined_via, m.joined_at, t.billing_user_id = $1 AS pays_for_team
         FROM team_members m JOIN teams t ON t.id = m.team_id
        WHERE m.user_id = $1 ORDER BY m.joined_at, m.team_id`,
      [userId],
    );
  }

  invitesSentBy(userId: string): Promise<InviteExportRow[]> {
    return this.db.query(
      `SELECT ${INVITE_COLUMNS} FROM team_invites i JOIN teams t ON t.id = i.team_id
        WHERE i.invited_by = $1 ORDER BY i.created_at, i.id`,
      [userId],
    );
  }

  /** Invites to the account's email (whoever accepted them) or accepted by the account. */
  invitesReceivedBy(userId: string, email: string): Promise<InviteExportRow[]> {
    return this.db.query(
      `SELECT ${INVITE_COLUMNS} FROM team_invites i JOIN teams t ON t.id = i.team_id
        WHERE lower(i.email) = lower($2) OR i.accepted_by = $1 ORDER BY i.created_at, i.id`,
      [userId, email],
    );
  }

  /** The teams the account is in or pays for. */
  async teamsOf(userId: string): Promise<string[]> {
    const rows = await this.db.query<Array<{ id: string }>>(
      `SELECT team_id AS id FROM team_members WHERE user_id = $1
        UNION SELECT id FROM teams WHERE billing_user_id = $1 ORDER BY id`,
      [userId],
    );
    return rows.map((row) => row.id);
  }

  /**
   * The team's members other than `userId`: owners, then admins, then
   * members, each longest-standing first (the order successors are chosen in).
   */
  async othersOf(tx: Tx, teamId: string, userId: string): Promise<StayingMember[]> {
    const rows = await managerOf(tx).query<Array<{ user_id: string; role: TeamRole }>>(
      `SELECT user_id, role FROM team_members WHERE team_id = $1 AND user_id <> $2
        ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, joined_at, user_id`,
      [teamId, userId],
    );
    return rows.map((row) => ({ userId: row.user_id, role: row.role }));
  }

  /** Which of `userIds` pay for a team (one team per paying account). */
  async payingAccounts(tx: Tx, userIds: string[]): Promise<Set<string>> {
    const rows = await managerOf(tx).query<Array<{ billing_user_id: string }>>(
      `SELECT billing_user_id FROM teams WHERE billing_user_id = ANY($1::uuid[])`,
      [userIds],
    );
    return new Set(rows.map((row) => row.billing_user_id));
  }

  async setBillingUser(tx: Tx, teamId: string, userId: string): Promise<void> {
    await managerOf(tx).query(`UPDATE teams SET billing_user_id = $2 WHERE id = $1`, [teamId, userId]);
  }

  /** The team with its members and invites. */
  async deleteTeam(tx: Tx, teamId: string): Promise<void> {
    const manager = managerOf(tx);
    await manager.query(`DELETE FROM team_invites WHERE team_id = $1`, [teamId]);
    await manager.query(`DELETE FROM team_members WHERE team_id = $1`, [teamId]);
    await manager.query(`DELETE FROM teams WHERE id = $1`, [teamId]);
  }

  /** Every invite the account sent, accepted, or that was sent to its email. */
  async deleteInvitesOf(userId: string, email: string): Promise<void> {
    await this.db.query(
      `DELETE FROM team_invites WHERE invited_by = $1 OR accepted_by = $1 OR lower(email) = lower($2)`,
      [userId, email],
    );
  }
}
