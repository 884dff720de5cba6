import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Raw, type Repository } from 'typeorm';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { TeamInvite } from './entities/team-invite.entity.js';

/** Pending: neither accepted nor revoked, and not expired (by the database's clock, as the seat count reads it). */
const PENDING = {
  acceptedAt: IsNull(),
  revokedAt: IsNull(),
  expiresAt: Raw((column) => `${column} > now()`),
} as const;

/** Team invitations; found by the hash of their token, never by the token. */
@Injectable()
export class TeamInvitesRepository {
  constructor(@InjectRepository(TeamInvite) private readonly invites: Repository<TeamInvite>) {}

  async insert(
    tx: Tx,
    invite: Pick<TeamInvite, 'teamId' | 'email' | 'role' | 'tokenHash' | 'invitedBy' | 'expiresAt'>,
  ): Promise<TeamInvite> {
    const manager = managerOf(tx);
    const row = manager.create(TeamInvite, {
      ...invite,
      acceptedAt: null,
      acceptedBy: null,
      revokedAt: null,
    });
    await manager.insert(TeamInvite, row);
    return row;
  }

  /** The team's pending invite for this email, if any. */
  async pendingFor(tx: Tx, teamId: string, email: string): Promise<TeamInvite | null> {
    return managerOf(tx).findOneBy(TeamInvite, { teamId, email, ...PENDING });
  }

  /** A pending invite by its token's hash, or null (unknown, used, revoked or expired alike). */
  async pendingByHash(tokenHash: string): Promise<TeamInvite | null> {
    return this.invites.findOneBy({ tokenHash, ...PENDING });
  }

  /** The same, locked for the rest of `tx`, so one token is accepted once. */
  async lockPendingByHash(tx: Tx, tokenHash: string): Promise<TeamInvite | null> {
    return managerOf(tx).findOne(TeamInvite, {
      where: { tokenHash, ...PENDING },
      lock: { mode: 'pessimistic_write' },
    });
  }

  async markAccepted(tx: Tx, id: string, userId: string): Promise<void> {
    await managerOf(tx).update(TeamInvite, { id }, { acceptedAt: () => 'now()', acceptedBy: userId });
  }

  /** Revokes the team's pending invite and answers it; null when the team has no pending invite with this id. */
  async revokePending(tx: Tx, teamId: string, id: string): Promise<TeamInvite | null> {
    const manager = managerOf(tx);
    const invite = await manager.findOne(TeamInvite, {
      where: { id, teamId, ...PENDING },
      lock: { mode: 'pessimistic_write' },
    });
    if (!invite) return null;
    await manager.update(TeamInvite, { id }, { revokedAt: () => 'now()' });
    return invite;
  }

  /** A page of the team's pending invites, newest first. */
  async pendingPage(teamId: string, page: number, limit: number): Promise<[TeamInvite[], number]> {
    return this.invites.findAndCount({
      where: { teamId, ...PENDING },
      order: { createdAt: 'DESC', id: 'ASC' },
      take: limit,
      skip: (page - 1) * limit,
    });
  }
}
