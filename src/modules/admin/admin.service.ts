import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { AuditService } from '../audit/audit.service.js';
import { AuthService } from '../auth/auth.service.js';
import { User } from '../auth/entities/user.entity.js';
import { PrincipalService } from '../auth/principal.service.js';
import type { AdminUpdateUserDto, AdminUserDto, AdminUsersQueryDto } from './dto/admin.dto.js';

@Injectable()
export class AdminService {
  constructor(
    private readonly ds: DataSource,
    private readonly auth: AuthService,
    private readonly principals: PrincipalService,
    private readonly audit: AuditService,
  ) {}

  async listUsers(q: AdminUsersQueryDto): Promise<{ items: AdminUserDto[]; total: number }> {
    const qb = this.ds
      .getRepository(User)
      .createQueryBuilder('u')
      .orderBy('u.created_at', 'DESC')
      .addOrderBy('u.id');
    if (q.email) {
      const escaped = q.email.replace(/[\\%_]/g, (c) => `\\${c}`);
      qb.where(`u.email LIKE :pattern ESCAPE '\\'`, { pattern: `%${escaped}%` });
    }
    const [users, total] = await qb
      .skip((q.page - 1) * q.limit)
      .take(q.limit)
      .getManyAndCount();
    return { items: users.map((u) => this.toDto(u)), total };
  }

  async updateUser(admin: AuthUser, id: string, dto: AdminUpdateUserDto): Promise<AdminUserDto> {
    if (dto.tier === undefined && dto.role === undefined && dto.disabled === undefined) {
      throw new BadRequestException('Nothing to change: send tier, role or disabled');
    }
    if (id === admin.id && (dto.disabled === true || dto.role === 'user')) {
      throw new BadRequestException('You cannot disable or demote your own account');
    }
    return this.ds.transaction(async (m) => {
      const user = await m.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw new NotFoundException('User not found');
      const before = this.toDto(user);
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
      const after = this.toDto(user);
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

  private toDto(u: User): AdminUserDto {
    const row = { role: u.role, email: u.email, tier_override: u.tierOverride };
    return {
      id: u.id,
      email: u.email,
      tier: this.principals.tierOf(row),
      tier_override: u.tierOverride,
      role: this.principals.roleOf(row),
      disabled: u.disabledAt !== null,
      created_at: u.createdAt.getTime(),
    };
  }
}
