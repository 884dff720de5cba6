import { Injectable } from '@nestjs/common';
import {
  AccountDataParticipant,
  type AccountArchive,
  type ErasedAccount,
  type ExportedAccount,
} from '../../common/account-data/account-data.js';
import type { Tier } from '../../common/tiers/tiers.js';
import { type Tx, UnitOfWork } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import { AccountsService } from '../auth/index.js';
import type { Team } from './entities/team.entity.js';
import {
  type InviteExportRow,
  type StayingMember,
  TeamsAccountDataRepository,
} from './teams-account-data.repository.js';
import { TeamsRepository } from './teams.repository.js';
import { TeamsService } from './teams.service.js';

const ERASED = 'a member’s account was erased';

/**
 * Team membership and invitations (the `teams` section of account.json).
 *
 * Erasure leaves every team the account is in or pays for, one team per
 * transaction (a retry finds the teams not yet left), then deletes every
 * invite it sent, accepted or was sent. A team whose paying account is
 * erased passes its billing to the longest-standing owner (else admin, else
 * member, made owner) who pays for no team of their own: the erased
 * account's subscription ends with the Stripe customer billing deletes, so
 * the team has no paid seats until that owner subscribes, and its members
 * hold their own tier at once. A team left without an owner gets the
 * longest-standing admin (else member) as owner; a team left with nobody
 * (or nobody who could pay for it) is dissolved. All audited, naming the
 * erased account by its pseudonym only.
 *
 * Disabling changes nothing here: a pending erasure's membership keeps its
 * seat, since a restore brings the account back as it was.
 */
@Injectable()
export class TeamsAccountData extends AccountDataParticipant {
  readonly name = 'teams';
  // What points at the account from data others share (the teams it is in), before money (billing, 70).
  readonly eraseOrder = 55;

  constructor(
    private readonly repository: TeamsAccountDataRepository,
    private readonly teams: TeamsRepository,
    private readonly membership: TeamsService,
    private readonly accounts: AccountsService,
    private readonly audit: AuditService,
    private readonly unitOfWork: UnitOfWork,
  ) {
    super();
  }

  async export(account: ExportedAccount, archive: AccountArchive): Promise<void> {
    const memberships = await this.repository.membershipsOf(account.userId);
    archive.addAccountSection('teams', {
      memberships: memberships.map((row) => ({ ...row, joined_at: new Date(row.joined_at).getTime() })),
      invites_sent: (await this.repository.invitesSentBy(account.userId)).map(inviteForExport),
      invites_received: (await this.repository.invitesReceivedBy(account.userId, account.email)).map(
        inviteForExport,
      ),
    });
  }

  async erase(account: ErasedAccount): Promise<void> {
    for (const teamId of await this.repository.teamsOf(account.userId)) {
      await this.unitOfWork.run((tx) => this.leave(tx, teamId, account));
    }
    await this.repository.deleteInvitesOf(account.userId, account.email);
  }

  /** Takes the account out of one team, handing on its billing and ownership first, or dissolving it. */
  private async leave(tx: Tx, teamId: string, account: ErasedAccount): Promise<void> {
    const team = await this.teams.lockTeam(tx, teamId);
    if (!team) return;
    const others = await this.repository.othersOf(tx, teamId, account.userId);
    const leaving = await this.teams.memberOf(teamId, account.userId, tx);
    if (team.billingUserId === account.userId) {
      const paying = await this.repository.payingAccounts(
        tx,
        others.map((member) => member.userId),
      );
      const payer = others.find((member) => !paying.has(member.userId));
      if (!payer) return this.dissolve(tx, team, others, account);
      await this.handOverBilling(tx, team, payer, others, account);
    }
    if (others.length === 0) return this.dissolve(tx, team, others, account);
    if (leaving?.role === 'owner' && !others.some((member) => member.role === 'owner')) {
      await this.promote(tx, team, others[0], 'the team’s last owner’s account was erased');
    }
    if (!leaving) return;
    await this.teams.deleteMember(tx, teamId, account.userId);
    await this.audit.record(
      {
        eventType: 'team.member_erased',
        subjectId: teamId,
        reason: ERASED,
        data: { pseudonym: account.pseudonym, role: leaving.role },
      },
      tx,
    );
  }

  /**
   * Makes `payer` the team's billing account (and an owner). The team's seats
   * are now those of `payer`'s Team subscription, if any: every member's tier
   * may change, each change audited.
   */
  private async handOverBilling(
    tx: Tx,
    team: Team,
    payer: StayingMember,
    others: StayingMember[],
    account: ErasedAccount,
  ): Promise<void> {
    const before = await this.tiersOf(tx, others);
    if (payer.role !== 'owner') await this.promote(tx, team, payer, 'the team’s paying account was erased');
    await this.repository.setBillingUser(tx, team.id, payer.userId);
    await this.audit.record(
      {
        eventType: 'team.billing_changed',
        subjectId: team.id,
        reason: 'the team’s paying account was erased',
        data: { from_pseudonym: account.pseudonym, to: payer.userId },
      },
      tx,
    );
    await this.recordTierChanges(tx, before, `team ${team.id} lost its paying account`);
  }

  /** Makes `member` an owner (in place, so the caller sees the new role). */
  private async promote(tx: Tx, team: Team, member: StayingMember, reason: string): Promise<void> {
    await this.teams.setRole(tx, team.id, member.userId, 'owner');
    await this.audit.record(
      {
        eventType: 'team.member_role_changed',
        subjectId: team.id,
        reason,
        data: { user_id: member.userId, from: member.role, to: 'owner' },
      },
      tx,
    );
    member.role = 'owner';
  }

  /** Deletes the team, its members and its invites; the members' tier changes are audited. */
  private async dissolve(tx: Tx, team: Team, others: StayingMember[], account: ErasedAccount): Promise<void> {
    const before = await this.tiersOf(tx, others);
    await this.repository.deleteTeam(tx, team.id);
    await this.audit.record(
      {
        eventType: 'team.dissolved',
        subjectId: team.id,
        reason: ERASED,
        data: { pseudonym: account.pseudonym, members_removed: others.length },
      },
      tx,
    );
    await this.recordTierChanges(tx, before, `team ${team.id} was dissolved`);
  }

  private async tiersOf(tx: Tx, members: StayingMember[]): Promise<Map<string, Tier>> {
    const tiers = new Map<string, Tier>();
    for (const member of members) {
      tiers.set(member.userId, await this.accounts.effectiveTierOf(member.userId, tx));
    }
    return tiers;
  }

  private async recordTierChanges(tx: Tx, before: Map<string, Tier>, reason: string): Promise<void> {
    for (const [userId, tier] of before) {
      await this.membership.recordTierChange(tx, userId, tier, reason, null);
    }
  }
}

function inviteForExport(row: InviteExportRow): Record<string, unknown> {
  const time = (value: Date | null) => value && new Date(value).getTime();
  return {
    ...row,
    created_at: time(row.created_at),
    expires_at: time(row.expires_at),
    accepted_at: time(row.accepted_at),
    revoked_at: time(row.revoked_at),
  };
}
