import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, type Repository } from 'typeorm';
import type { SubscriptionState } from './effective-tier.js';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { User } from './entities/user.entity.js';
import { TEAM_TIER_JOIN } from './principals.repository.js';

/** A user with the subscription state its effective tier is computed from. */
export interface UserWithSubscription {
  user: User;
  subscription: SubscriptionState;
  /** The Team subscription of a team the user is a member of. */
  teamSubscription: SubscriptionState;
}

interface RawSubscription {
  sub_tier: string | null;
  sub_status: string | null;
  sub_in_period: boolean | null;
  team_tier: string | null;
  team_status: string | null;
  team_in_period: boolean | null;
}

/**
 * Subscription columns from `subscription_tiers`, the read-only view the billing module publishes,
 * and a team's from `team_subscription_tiers` (TEAM_TIER_JOIN), the one the teams module publishes.
 */
const OWN_SUBSCRIPTION_COLUMNS =
  'sub.tier AS sub_tier, sub.status AS sub_status, sub.current_period_end > now() AS sub_in_period';
const SUBSCRIPTION_COLUMNS =
  OWN_SUBSCRIPTION_COLUMNS +
  ', team_sub.tier AS team_tier, team_sub.status AS team_status, team_sub.current_period_end > now() AS team_in_period';

const subscriptionOf = (row: RawSubscription | undefined): SubscriptionState => ({
  tier: row?.sub_tier ?? null,
  status: row?.sub_status ?? null,
  inPeriod: row?.sub_in_period ?? null,
});

const teamSubscriptionOf = (row: RawSubscription | undefined): SubscriptionState => ({
  tier: row?.team_tier ?? null,
  status: row?.team_status ?? null,
  inPeriod: row?.team_in_period ?? null,
});

/** The users table. */
@Injectable()
export class AccountsRepository {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  async insert(
    tx: Tx,
    user: Pick<User, 'email' | 'passwordHash' | 'role' | 'tierOverride' | 'disabledAt'>,
  ): Promise<User> {
    const manager = managerOf(tx);
    const row = manager.create(User, user);
    await manager.insert(User, row);
    return row;
  }

  /** The users among `ids` that exist (id and email only). */
  async findEmails(ids: string[]): Promise<User[]> {
    if (ids.length === 0) return [];
    return this.users.find({ where: { id: In(ids) }, select: { id: true, email: true } });
  }

  async findByEmail(email: string, tx?: Tx): Promise<User | null> {
    return managerOf(tx, this.users.manager).findOne(User, { where: { email } });
  }

  async findById(id: string, tx?: Tx): Promise<User | null> {
    const manager = managerOf(tx, this.users.manager);
    return manager.findOne(User, { where: { id } });
  }

  /** The user, locked for the rest of `tx`; null when there is none. */
  async lockById(tx: Tx, id: string): Promise<User | null> {
    const manager = managerOf(tx);
    return manager.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  /** The user with this (normalised) email, locked for the rest of `tx`; null when none. */
  async lockByEmail(tx: Tx, email: string): Promise<User | null> {
    const manager = managerOf(tx);
    return manager.findOne(User, { where: { email }, lock: { mode: 'pessimistic_write' } });
  }

  async save(tx: Tx, user: User): Promise<void> {
    const manager = managerOf(tx);
    await manager.save(user);
  }

  async exists(id: string, tx?: Tx): Promise<boolean> {
    const manager = managerOf(tx, this.users.manager);
    return manager.exists(User, { where: { id } });
  }

  async stripeCustomerIdOf(id: string): Promise<string | null> {
    const user = await this.users.findOne({ where: { id }, select: { id: true, stripeCustomerId: true } });
    return user?.stripeCustomerId ?? null;
  }

  /** Records the user's Stripe customer unless one is already recorded (the first one is kept). */
  async keepStripeCustomerId(id: string, stripeCustomerId: string, tx?: Tx): Promise<void> {
    const manager = managerOf(tx, this.users.manager);
    await manager.update(User, { id, stripeCustomerId: IsNull() }, { stripeCustomerId });
  }

  async userOfStripeCustomer(stripeCustomerId: string, tx?: Tx): Promise<string | null> {
    const manager = managerOf(tx, this.users.manager);
    const user = await manager.findOne(User, { where: { stripeCustomerId }, select: { id: true } });
    return user?.id ?? null;
  }

  /** The admin's override and the subscription state of a user (inside `tx`). */
  async tierInputs(
    id: string,
    tx?: Tx,
  ): Promise<{
    override: string | null;
    subscription: SubscriptionState;
    teamSubscription: SubscriptionState;
  } | null> {
    const manager = managerOf(tx, this.users.manager);
    const [row] = await manager.query<Array<RawSubscription & { tier_override: string | null }>>(
      `SELECT u.tier_override, ${SUBSCRIPTION_COLUMNS}
         FROM users u LEFT JOIN subscription_tiers sub ON sub.user_id = u.id ${TEAM_TIER_JOIN}
        WHERE u.id = $1`,
      [id],
    );
    return row
      ? {
          override: row.tier_override,
          subscription: subscriptionOf(row),
          teamSubscription: teamSubscriptionOf(row),
        }
      : null;
  }

  /** A page of users, newest first, optionally those whose email contains `emailPart`. */
  async listWithSubscriptions(query: {
    emailPart?: string;
    page: number;
    limit: number;
  }): Promise<[UserWithSubscription[], number]> {
    const builder = this.users
      .createQueryBuilder('u')
      .leftJoin('subscription_tiers', 'sub', 'sub.user_id = u.id')
      // The page's team subscriptions come in one more query (teamSubscriptionsOf), not a lateral join here.
      .addSelect(OWN_SUBSCRIPTION_COLUMNS)
      .orderBy('u.created_at', 'DESC')
      .addOrderBy('u.id', 'ASC')
      .limit(query.limit)
      .offset((query.page - 1) * query.limit);
    if (query.emailPart) {
      // LIKE wildcards typed by the admin are literal.
      const pattern = `%${query.emailPart.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
      builder.where(`u.email LIKE :pattern ESCAPE '\\'`, { pattern });
    }
    const { entities, raw } = await builder.getRawAndEntities<RawSubscription>();
    const total = await builder.getCount();
    const teams = await this.teamSubscriptionsOf(entities.map((user) => user.id));
    return [
      entities.map((user, index) => ({
        user,
        subscription: subscriptionOf(raw[index]),
        teamSubscription: teamSubscriptionOf(teams.get(user.id)),
      })),
      total,
    ];
  }

  /** For a page of users: each one's team subscription, as TEAM_TIER_JOIN picks it for one user. */
  private async teamSubscriptionsOf(ids: string[]): Promise<Map<string, RawSubscription>> {
    if (ids.length === 0) return new Map();
    const rows = await this.users.query<Array<RawSubscription & { user_id: string }>>(
      `SELECT DISTINCT ON (ts.user_id) ts.user_id, ts.tier AS team_tier, ts.status AS team_status,
              ts.current_period_end > now() AS team_in_period
         FROM team_subscription_tiers ts WHERE ts.user_id = ANY($1::uuid[])
        ORDER BY ts.user_id, ts.status IN ('active', 'trialing') DESC, ts.current_period_end DESC NULLS LAST`,
      [ids],
    );
    return new Map(rows.map((row) => [row.user_id, row]));
  }
}
