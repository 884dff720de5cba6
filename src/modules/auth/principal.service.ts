import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config.js';
import {
  SUBSCRIPTION_TIER_COLUMNS,
  type SubscriptionTierColumns,
  tierFromColumns,
} from '../billing/index.js';
import { type AuthUser } from './auth.types.js';
import type { Role } from './entities/user.entity.js';
import { sha256Hex } from './token.service.js';

interface PrincipalRow extends SubscriptionTierColumns {
  id: string;
  email: string;
  role: Role;
  key_id?: string;
  /** The session's or key's last-used time is older than TOUCH_INTERVAL. */
  stale: boolean;
}

/** How often "last used" timestamps are written, at most (not on every request). */
const TOUCH_INTERVAL = '60 seconds';

/**
 * Turns credentials into the request's principal with one query per request:
 * the user (enabled), its role and its effective tier, read fresh from the
 * database every time (SPEC rule 3).
 */
@Injectable()
export class PrincipalService {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly ds: DataSource,
    private readonly config: AppConfig,
  ) {}

  roleOf(row: { role: Role; email: string }): Role {
    return row.role === 'admin' || this.config.adminEmails.includes(row.email) ? 'admin' : 'user';
  }

  /** The principal of an access token, or null when the user is gone/disabled or the session revoked. */
  async forAccessToken(userId: string, sessionId: string): Promise<AuthUser | null> {
    const [row] = await this.ds.query<PrincipalRow[]>(
      `SELECT u.id, u.email, u.role, u.tier_override, ${SUBSCRIPTION_TIER_COLUMNS},
              s.last_used_at < now() - interval '${TOUCH_INTERVAL}' AS stale
         FROM users u JOIN sessions s ON s.user_id = u.id LEFT JOIN subscriptions sub ON sub.user_id = u.id
        WHERE u.id = $1 AND s.id = $2 AND u.disabled_at IS NULL AND s.revoked_at IS NULL`,
      [userId, sessionId],
    );
    if (!row) return null;
    if (row.stale) this.touch('UPDATE sessions SET last_used_at = now() WHERE id = $1', sessionId);
    return { ...this.fromRow(row), via: 'jwt', sessionId };
  }

  /** The owner of an API key (active, owner enabled), or null. */
  async forApiKey(key: string): Promise<AuthUser | null> {
    const [row] = await this.ds.query<PrincipalRow[]>(
      `SELECT u.id, u.email, u.role, u.tier_override, ${SUBSCRIPTION_TIER_COLUMNS}, k.id AS key_id,
              (k.last_used_at IS NULL OR k.last_used_at < now() - interval '${TOUCH_INTERVAL}') AS stale
         FROM api_keys k JOIN users u ON u.id = k.user_id LEFT JOIN subscriptions sub ON sub.user_id = u.id
        WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND u.disabled_at IS NULL`,
      [sha256Hex(key)],
    );
    if (!row?.key_id) return null;
    if (row.stale) this.touch('UPDATE api_keys SET last_used_at = now() WHERE id = $1', row.key_id);
    return { ...this.fromRow(row), via: 'api_key', apiKeyId: row.key_id };
  }

  private fromRow(row: PrincipalRow): Omit<AuthUser, 'via'> {
    return {
      id: row.id,
      email: row.email,
      role: this.roleOf(row),
      tier: tierFromColumns(row, this.config.defaultTier),
    };
  }

  /** Bookkeeping write that must not fail or slow the request it rides on. */
  private touch(sql: string, id: string): void {
    this.ds.query(sql, [id]).catch((err: unknown) => {
      this.logger.warn(`Could not update last-used time: ${(err as Error).message}`);
    });
  }
}
