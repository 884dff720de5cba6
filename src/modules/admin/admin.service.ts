import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { ConnectionsService } from '../../common/realtime/connections.service.js';
import type { Tier } from '../../common/tiers/tiers.js';
import { UnitOfWork } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import { AccountsService, type User } from '../auth/index.js';
import type { AdminUpdateUserDto, AdminUserDto, AdminUsersQueryDto } from './dto/admin.dto.js';
import { AdminException } from './admin.errors.js';

type Changes = Record<string, { from: unknown; to: unknown }>;

/** User administration: every change is audited, tier changes as `tier.changed` too. */
@Injectable()
export class AdminService {
  constructor(
    private readonly accounts: AccountsService,
    private readonly audit: AuditService,
    private readonly connections: ConnectionsService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async listUsers(query: AdminUsersQueryDto): Promise<{ items: AdminUserDto[]; total: number }> {
    const [rows, total] = await this.accounts.list({
      emailPart: query.email,
      page: query.page,
      limit: query.limit,
    });
    return { items: rows.map((row) => this.toDto(row.user, row.tier)), total };
  }

  async updateUser(admin: AuthUser, id: string, dto: AdminUpdateUserDto): Promise<AdminUserDto> {
    if (dto.tier === undefined && dto.role === undefined && dto.disabled === undefined) {
      throw new AdminException('validation_failed', 'Nothing to change: send tier, role or disabled');
    }
    if (id === admin.id && (dto.disabled === true || dto.role === 'user')) {
      throw new AdminException('validation_failed', 'You cannot disable or demote your own account');
    }
    let disabledNow = false;
    const updated = await this.unitOfWork.run(async (tx) => {
      const user = await this.accounts.lockUser(tx, id);
      if (!user) throw new AdminException('not_found', 'User not found');
      const before = await this.accounts.effectiveTierOf(user.id, tx);
      const wasDisabled = user.disabledAt !== null;
      const changes = applyChanges(user, dto);
      if (Object.keys(changes).length === 0) return this.toDto(user, before);

      disabledNow = !wasDisabled && user.disabledAt !== null;
      await this.accounts.saveUser(tx, user, disabledNow);
      const after = await this.accounts.effectiveTierOf(user.id, tx);
      await this.audit.record(
        { eventType: 'admin.user_updated', actorId: admin.id, subjectId: user.id, data: { changes } },
        tx,
      );
      await this.accounts.recordTierChange(
        { userId: user.id, from: before, to: after, actorId: admin.id, reason: 'admin override' },
        tx,
      );
      return this.toDto(user, after);
    });
    // Once committed: the account's open sockets, on every instance, are cut too.
    if (disabledNow) {
      await this.connections.revoke(
        { userId: id },
        { code: 'session_ended', message: 'The account was disabled by an administrator' },
      );
    }
    return updated;
  }

  private toDto(user: User, tier: Tier): AdminUserDto {
    return {
      id: user.id,
      email: user.email,
      tier,
      tier_override: user.tierOverride,
      role: this.accounts.roleOf(user),
      disabled: user.disabledAt !== null,
      created_at: user.createdAt.getTime(),
    };
  }
}

/** Applies what the admin asked to the user; answers what actually changed, from → to. */
function applyChanges(user: User, dto: AdminUpdateUserDto): Changes {
  const changes: Changes = {};
  if (dto.tier !== undefined && dto.tier !== user.tierOverride) {
    changes.tier_override = { from: user.tierOverride, to: dto.tier };
    user.tierOverride = dto.tier;
  }
  if (dto.role !== undefined && dto.role !== user.role) {
    changes.role = { from: user.role, to: dto.role };
    user.role = dto.role;
  }
  if (dto.disabled !== undefined && dto.disabled !== (user.disabledAt !== null)) {
    changes.disabled = { from: user.disabledAt !== null, to: dto.disabled };
    user.disabledAt = dto.disabled ? new Date() : null;
  }
  return changes;
}
