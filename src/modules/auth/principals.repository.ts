import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DatabaseService } from '../../database/database.service.js';
import type { SubscriptionState } from './effective-tier.js';
import type { Role } from './entities/user.entity.js';

/** What one request's credentials resolve to, read in one query. */
export interface PrincipalRow {
  id: string;
  email: string;
  role: Role;
  tierOverride: string | null;
  subscription: SubscriptionState;
  /** The Team subscription of a team the user is a member of (all null when none). */
  teamSubscription: SubscriptionState;
  /** The session's or key's last-used time is older than the touch interval. */
  stale: boolean;
  keyId?: string;
}

interface RawPrincipal {
  id: string;
  email: string;
  role: Role;
  tier_override: string | null;
  sub_tier: string | null;
  sub_status: string | null;
  sub_in_period: boolean | null;
  team_tier: string | null;
  team_status: string | null;
  team_in_period: boolean | null;
  stale: boolean;
  key_id?: string;
}

/**
 * The subscription state comes from `subscription_tiers`, the read-only view
 * the billing module publishes for exactly this, and a team's from
 * `team_subscription_tiers`, the one the teams module publishes (the Team
 * subscription of each team a user is a member of): every authenticated
 * request costs one query, with the tier read fresh, without auth reading
 * billing's or teams' tables or importing their code. Of several teams, a
 * live subscription's is taken first.
 */
const USER_AND_TIER = `u.id, u.email, u.role, u.tier_override,
  sub.tier AS sub_tier, sub.status AS sub_status, sub.current_period_end > now() AS sub_in_period,
  team_sub.tier AS team_tier, team_sub.status AS team_status,
  team_sub.current_period_end > now() AS team_in_period`;
export const TEAM_TIER_JOIN = `LEFT JOIN LATERAL (
    SELECT ts.tier, ts.status, ts.current_period_end FROM team_subscription_tiers ts WHERE ts.user_id = u.id
     ORDER BY ts.status IN ('active', 'trialing') DESC, ts.current_period_end DESC NULLS LAST LIMIT 1
  ) team_sub ON true`;
const TIER_JOIN = `LEFT JOIN subscription_tiers sub ON sub.user_id = u.id ${TEAM_TIER_JOIN}`;

/** How often "last used" timestamps are written, at most (not on every request). */
const TOUCH_INTERVAL = '60 seconds';

function toPrincipal(row: RawPrincipal): PrincipalRow {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    tierOverride: row.tier_override,
    subscription: { tier: row.sub_tier, status: row.sub_status, inPeriod: row.sub_in_period },
    teamSubscription: { tier: row.team_tier, status: row.team_status, inPeriod: row.team_in_period },
    stale: row.stale,
    keyId: row.key_id,
  };
}

const FOR_SESSION = `SELECT ${USER_AND_TIER}, s.last_used_at < now() - interval '${TOUCH_INTERVAL}' AS stale
  FROM users u JOIN sessions s ON s.user_id = u.id ${TIER_JOIN}
 WHERE u.id = $1 AND s.id = $2 AND u.disabled_at IS NULL AND s.revoked_at IS NULL`;

const FOR_API_KEY_HASH = `SELECT ${USER_AND_TIER}, k.id AS key_id,
       (k.last_used_at IS NULL OR k.last_used_at < now() - interval '${TOUCH_INTERVAL}') AS stale
  FROM api_keys k JOIN users u ON u.id = k.user_id ${TIER_JOIN}
 WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND u.disabled_at IS NULL`;

/** The per-request lookups of the authentication guard. */
@Injectable()
export class PrincipalsRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly database: DatabaseService,
  ) {}

  /** The enabled user of a live session, or null. */
  async forSession(userId: string, sessionId: string): Promise<PrincipalRow | null> {
    const [row] = await this.prepared('principal_for_session', FOR_SESSION, [userId, sessionId]);
    return row ? toPrincipal(row) : null;
  }

  /** The enabled owner of an active API key (by the key's hash), or null. */
  async forApiKeyHash(keyHash: string): Promise<PrincipalRow | null> {
    const [row] = await this.prepared('principal_for_api_key', FOR_API_KEY_HASH, [keyHash]);
    return row?.key_id ? toPrincipal(row) : null;
  }

  /**
   * Runs one of the lookups above as a prepared statement: it runs on every
   * authenticated request, and planning its joins anew each time cost more
   * than running them.
   */
  private prepared(name: string, text: string, values: string[]): Promise<RawPrincipal[]> {
    return this.database.preparedQuery<RawPrincipal>(name, text, values);
  }

  async touchSession(sessionId: string): Promise<void> {
    await this.dataSource.query('UPDATE sessions SET last_used_at = now() WHERE id = $1', [sessionId]);
  }

  async touchApiKey(keyId: string): Promise<void> {
    await this.dataSource.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [keyId]);
  }
}
