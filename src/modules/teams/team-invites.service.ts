import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import type { AuthUser } from '../../common/auth/auth-user.js';
import type { Page } from '../../common/dto/pagination.dto.js';
import { AppConfig } from '../../config/app-config.js';
import { type Tx, UnitOfWork } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import { AccountsService } from '../auth/index.js';
import {
  type CreatedInviteDto,
  type CreateInviteDto,
  type InviteDto,
  type InvitePreviewDto,
  mapInvite,
  type TeamDto,
} from './dto/teams.dto.js';
import type { TeamRole } from './entities/team-member.entity.js';
import { TeamInviteDelivery } from './team-invite-delivery.js';
import { TeamInvitesRepository } from './team-invites.repository.js';
import { TeamsException } from './teams.errors.js';
import { TeamsRepository } from './teams.repository.js';
import { TeamsService } from './teams.service.js';

/** An invitation lasts a week. */
export const INVITE_TTL_MS = 7 * 24 * 3600 * 1000;
const TOKEN_PREFIX = 'tinv_';
const MANAGERS: readonly TeamRole[] = ['owner', 'admin'];

const hashOf = (token: string): string => createHash('sha256').update(token).digest('hex');

const inviteNotFound = () =>
  new TeamsException('not_found', 'This invitation does not exist, was used or revoked, or has expired');

/**
 * Invitations: a single-use token per invite, stored as its SHA-256 (like API
 * keys and refresh tokens), answered once to the inviter with the link to send.
 * A pending invite holds a seat; accepting it takes the seat in the same transaction.
 */
@Injectable()
export class TeamInvitesService {
  constructor(
    private readonly invites: TeamInvitesRepository,
    private readonly teams: TeamsRepository,
    private readonly membership: TeamsService,
    private readonly accounts: AccountsService,
    private readonly delivery: TeamInviteDelivery,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async create(user: AuthUser, teamId: string, dto: CreateInviteDto): Promise<CreatedInviteDto> {
    const team = await this.membership.requireRole(teamId, user.id, MANAGERS);
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const invite = await this.unitOfWork.run(async (tx) => {
      await this.teams.lockTeam(tx, teamId);
      if ((await this.membership.roleOf(teamId, user.id, tx)) !== 'owner' && dto.role === 'owner')
        throw new TeamsException('role_required', 'Only an owner invites an owner', {
          required_roles: ['owner'],
        });
      await this.assertNotInvited(tx, teamId, dto.email);
      await this.membership.assertSeatFree(tx, team);
      const row = await this.invites.insert(tx, {
        teamId,
        email: dto.email,
        role: dto.role,
        tokenHash: hashOf(token),
        invitedBy: user.id,
        expiresAt: new Date(Date.now() + INVITE_TTL_MS),
      });
      await this.audit.record(
        {
          eventType: 'team.invite_created',
          actorId: user.id,
          subjectId: teamId,
          data: { invite_id: row.id, role: dto.role },
        },
        tx,
      );
      return row;
    });
    const created = {
      ...mapInvite(invite),
      token,
      accept_url: `${this.publicOrigin()}/api/v1/teams/invites/${token}`,
    };
    this.delivery.deliver({ team, inviterEmail: user.email, invite: created });
    return created;
  }

  /** What the public invite page shows; 404 for an unknown, used, revoked or expired token alike. */
  async preview(token: string): Promise<InvitePreviewDto> {
    const invite = await this.invites.pendingByHash(hashOf(token));
    const team = invite ? await this.teams.findTeam(invite.teamId) : null;
    if (!invite || !team) throw inviteNotFound();
    const inviter = invite.invitedBy
      ? await this.accounts.emailsOf([invite.invitedBy])
      : new Map<string, string>();
    return {
      team_name: team.name,
      inviter_email: (invite.invitedBy && inviter.get(invite.invitedBy)) || null,
      email: invite.email,
      role: invite.role,
      expires_at: invite.expiresAt.getTime(),
    };
  }

  /** Accepts the invite for the signed-in account whose email it was sent to; it is used up whatever the outcome but a refusal. */
  async accept(user: AuthUser, token: string): Promise<TeamDto> {
    const teamId = await this.unitOfWork.run(async (tx) => {
      const invite = await this.invites.lockPendingByHash(tx, hashOf(token));
      if (!invite) throw inviteNotFound();
      if (invite.email !== user.email)
        throw new TeamsException(
          'email_mismatch',
          'This invitation was sent to another email address: sign in with the invited account to accept it',
        );
      await this.invites.markAccepted(tx, invite.id, user.id);
      await this.membership.addMember(invite.teamId, user.id, invite.role, 'invite', tx);
      await this.audit.record(
        {
          eventType: 'team.invite_accepted',
          actorId: user.id,
          subjectId: invite.teamId,
          data: { invite_id: invite.id },
        },
        tx,
      );
      return invite.teamId;
    });
    return this.membership.get(user, teamId);
  }

  async revoke(user: AuthUser, teamId: string, inviteId: string): Promise<void> {
    await this.membership.requireRole(teamId, user.id, MANAGERS);
    await this.unitOfWork.run(async (tx) => {
      const invite = await this.invites.revokePending(tx, teamId, inviteId);
      if (!invite) throw inviteNotFound();
      await this.audit.record(
        {
          eventType: 'team.invite_revoked',
          actorId: user.id,
          subjectId: teamId,
          data: { invite_id: inviteId },
        },
        tx,
      );
    });
  }

  async list(user: AuthUser, teamId: string, page: number, limit: number): Promise<Page<InviteDto>> {
    await this.membership.requireRole(teamId, user.id, MANAGERS);
    const [invites, total] = await this.invites.pendingPage(teamId, page, limit);
    return { items: invites.map(mapInvite), total, page, limit };
  }

  /** 409 when the email is a member already or has a pending invite (revoke it to send a new one). */
  private async assertNotInvited(tx: Tx, teamId: string, email: string): Promise<void> {
    if (await this.invites.pendingFor(tx, teamId, email))
      throw new TeamsException(
        'duplicate',
        `${email} has a pending invite to this team already: revoke it to send a new one`,
      );
    const userId = (await this.accounts.lockUserByEmail(tx, email))?.id;
    if (userId && (await this.membership.roleOf(teamId, userId, tx)))
      throw new TeamsException('duplicate', `${email} is a member of this team already`);
  }

  /** PUBLIC_URL; in dev without it, this server on localhost (never the request's Host, which a client chooses). */
  private publicOrigin(): string {
    return this.config.publicUrl ?? `http://localhost:${this.config.port}`;
  }
}
