import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuthUser } from '../../common/auth/auth-user.js';
import type { Tier } from '../../common/tiers/tiers.js';
import { AppConfig } from '../../config/app-config.js';
import { AuditService } from '../audit/index.js';
import { AuthService } from '../auth/index.js';
import { User } from '../auth/index.js';
import { PrincipalService } from '../auth/index.js';
import {
  effectiveTierOf,
  SUBSCRIPTION_TIER_COLUMNS,
  type SubscriptionTierColumns,
  tierFromColumns,
} from '../billing/index.js';
import type { AdminUpdateUserDto, AdminUserDto, AdminUsersQueryDto } from './dto/admin.dto.js';
import { AdminException } from './admin.errors.js';

interface UserRow extends SubscriptionTierColumns {
  id: string;
  email: string;
  role: 'user' | 'admin';
  disabled_at: Date | null;
  created_at: Date;
}

@Injectable()
export class AdminService {
  constructor(
    private readonly ds: DataSource,
    private readonly auth: AuthService,
    private readonly principals: PrincipalService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  async listUsers(q: AdminUsersQueryDto): Promise<{ items: AdminUserDto[]; total: number }> {
    // LIKE wildcards typed by the admin are literal.
    const pattern = q.email ? `%${q.email.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
    const filter = `WHERE ($1::text IS NULL OR u.email LIKE $1 ESCAPE '\\')`;
    const rows = await this.ds.query<UserRow[]>(
      `SELECT u.id, u.email, u.role, u.tier_override, u.disabled_at, u.created_at, ${SUBSCRIPTION_TIER_COLUMNS}
         FROM users u LEFT JOIN subscriptions sub ON sub.user_id = u.id ${filter}
        ORDER BY u.created_at DESC, u.id LIMIT $2 OFFSET $3`,
      [pattern, q.limit, (q.page - 1) * q.limit],
    );
    const [{ total }] = await this.ds.query<Array<{ total: number }>>(
      `SELECT count(*)::int AS total FROM users u ${filter}`,
      [pattern],
    );
    const items = rows.map((r) =>
      this.toDto(
        {
          id: r.id,
          email: r.email,
          role: r.role,
          tierOverride: r.tier_override as Tier | null,
          disabledAt: r.disabled_at,
          createdAt: r.created_at,
        },
        tierFromColumns(r, this.config.defaultTier),
      ),
    );
    return { items, total };
  }

  async updateUser(admin: AuthUser, id: string, dto: AdminUpdateUserDto): Promise<AdminUserDto> {
    if (dto.tier === undefined && dto.role === undefined && dto.disabled === undefined) {
      throw new AdminException('validation_failed', 'Nothing to change: send tier, role or disabled');
    }
    if (id === admin.id && (dto.disabled === true || dto.role === 'user')) {
      throw new AdminException('validation_failed', 'You cannot disable or demote your own account');
    }
    return this.ds.transaction(async (m) => {
      const user = await m.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw new AdminException('not_found', 'User not found');
      const before = this.toDto(user, await effectiveTierOf(m, user.id, this.config.defaultTier));
      const changes: Record<string, { from: unknown; to: unknown }> = {};

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
        if (dto.disabled) await this.auth.revokeEverything(m, user.id, 'account_disabled');
      }
      if (Object.keys(changes).length === 0) return before;

      await m.save(user);
      const after = this.toDto(user, await effectiveTierOf(m, user.id, this.config.defaultTier));
      await this.audit.record(
        { eventType: 'admin.user_updated', actorId: admin.id, subjectId: user.id, data: { changes } },
        m,
      );
      if (after.tier !== before.tier) {
        await this.audit.record(
          {
            eventType: 'tier.changed',
            actorId: admin.id,
            subjectId: user.id,
            reason: 'admin override',
            data: { from: before.tier, to: after.tier },
          },
          m,
        );
      }
      return after;
    });
  }

  private toDto(
    u: Pick<User, 'id' | 'email' | 'role' | 'tierOverride' | 'disabledAt' | 'createdAt'>,
    tier: Tier,
  ): AdminUserDto {
    return {
      id: u.id,
      email: u.email,
      tier,
      tier_override: u.tierOverride,
      role: this.principals.roleOf({ role: u.role, email: u.email }),
      disabled: u.disabledAt !== null,
      created_at: u.createdAt.getTime(),
    };
  }
}
