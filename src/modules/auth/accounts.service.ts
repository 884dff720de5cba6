import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Tier } from '../../common/tiers/tiers.js';
import { effectiveTier } from './effective-tier.js';
import { AppConfig } from '../../config/app-config.js';
import type { Tx } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import { AccountsRepository, type UserWithSubscription } from './accounts.repository.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import type { Role, User } from './entities/user.entity.js';
import { SessionsRepository } from './sessions.repository.js';

/** A change of a user's effective tier, for the audit log. */
export interface TierChange {
  userId: string;
  from: Tier;
  to: Tier;
  /** Who caused it: an admin, the user, or null for Stripe. */
  actorId?: string | null;
  reason: string;
  data?: Record<string, unknown>;
}

/**
 * What other modules may do with accounts: look users up, change what an
 * admin may change, and learn or audit a user's effective tier (its admin
 * override, else a live subscription's tier, else the default).
 */
@Injectable()
export class AccountsService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly accounts: AccountsRepository,
    private readonly sessions: SessionsRepository,
    private readonly apiKeys: ApiKeysRepository,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.adminEmailsIgnored) return;
    this.logger.warn(
      'ADMIN_EMAILS is ignored with ENV=prod (an email is no proof of who registered it): ' +
        'grant the admin role with `npm run admin:grant -- EMAIL`',
    );
  }

  exists(userId: string, tx?: Tx): Promise<boolean> {
    return this.accounts.exists(userId, tx);
  }

  /** The email of each of the given users that exists, by user id. */
  async emailsOf(userIds: string[]): Promise<Map<string, string>> {
    const users = await this.accounts.findEmails(userIds);
    return new Map(users.map((user) => [user.id, user.email]));
  }

  /** The Stripe customer recorded for the user (at the first checkout), or null. */
  stripeCustomerIdOf(userId: string): Promise<string | null> {
    return this.accounts.stripeCustomerIdOf(userId);
  }

  /** Records the user's Stripe customer unless one is recorded already: the first one is kept. */
  keepStripeCustomerId(userId: string, stripeCustomerId: string, tx?: Tx): Promise<void> {
    return this.accounts.keepStripeCustomerId(userId, stripeCustomerId, tx);
  }

  userOfStripeCustomer(stripeCustomerId: string, tx?: Tx): Promise<string | null> {
    return this.accounts.userOfStripeCustomer(stripeCustomerId, tx);
  }

  /** The user's tier now (inside `tx` when given one); the default for an unknown user. */
  async effectiveTierOf(userId: string, tx?: Tx): Promise<Tier> {
    const inputs = await this.accounts.tierInputs(userId, tx);
    if (!inputs) return this.config.defaultTier;
    return effectiveTier(
      inputs.override,
      inputs.subscription,
      this.config.defaultTier,
      inputs.teamSubscription,
    );
  }

  /** Writes the `tier.changed` audit entry when the tier did change; the one place it is written. */
  async recordTierChange(change: TierChange, tx?: Tx): Promise<void> {
    if (change.from === change.to) return;
    await this.audit.record(
      {
        eventType: 'tier.changed',
        actorId: change.actorId ?? null,
        subjectId: change.userId,
        reason: change.reason,
        data: { from: change.from, to: change.to, ...change.data },
      },
      tx,
    );
  }

  /** A page of users with their effective tiers. */
  async list(query: {
    emailPart?: string;
    page: number;
    limit: number;
  }): Promise<[Array<{ user: User; tier: Tier }>, number]> {
    const [rows, total] = await this.accounts.listWithSubscriptions(query);
    return [rows.map((row) => ({ user: row.user, tier: this.tierOf(row) })), total];
  }

  lockUser(tx: Tx, id: string): Promise<User | null> {
    return this.accounts.lockById(tx, id);
  }

  lockUserByEmail(tx: Tx, email: string): Promise<User | null> {
    return this.accounts.lockByEmail(tx, email);
  }

  /** Saves what an admin changed; disabling also ends every session and API key of the user. */
  async saveUser(tx: Tx, user: User, disabledNow: boolean): Promise<void> {
    await this.accounts.save(tx, user);
    if (!disabledNow) return;
    await this.sessions.revokeAllOfUser(tx, user.id, 'account_disabled');
    await this.apiKeys.revokeAllOfUser(tx, user.id);
  }

  /** The role a user acts with: stored admins, and in dev the ADMIN_EMAILS accounts, are admins. */
  roleOf(user: { role: Role; email: string }): Role {
    return user.role === 'admin' || this.config.adminEmails.includes(user.email) ? 'admin' : 'user';
  }

  private tierOf(row: UserWithSubscription): Tier {
    return effectiveTier(
      row.user.tierOverride,
      row.subscription,
      this.config.defaultTier,
      row.teamSubscription,
    );
  }
}
