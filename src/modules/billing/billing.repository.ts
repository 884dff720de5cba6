import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { StripeEvent } from './entities/stripe-event.entity.js';
import { Subscription } from './entities/subscription.entity.js';

/** Fields of a subscription a webhook may set. */
export type SubscriptionFields = Partial<
  Pick<
    Subscription,
    | 'stripeSubscriptionId'
    | 'stripeCustomerId'
    | 'tier'
    | 'status'
    | 'currentPeriodEnd'
    | 'cancelAtPeriodEnd'
    | 'seats'
    | 'lastEventAt'
  >
>;

/** A verified Stripe event as stored. */
export interface StoredEvent {
  id: string;
  type: string;
  /** Stripe's `created`, seconds. */
  created: number;
  payload: unknown;
}

/** Subscriptions and the webhook event log. */
@Injectable()
export class BillingRepository {
  constructor(
    @InjectRepository(Subscription) private readonly subscriptions: Repository<Subscription>,
    @InjectRepository(StripeEvent) private readonly events: Repository<StripeEvent>,
  ) {}

  async subscriptionOf(userId: string): Promise<Subscription | null> {
    return this.subscriptions.findOneBy({ userId });
  }

  /** The user's subscription, read inside `tx` when given one. */
  async subscriptionOfUser(userId: string, tx?: Tx): Promise<Subscription | null> {
    const manager = managerOf(tx, this.subscriptions.manager);
    return manager.findOneBy(Subscription, { userId });
  }

  /**
   * The quantity Stripe answered to a seat change, recorded at once so the seat
   * count holds before the webhook confirms it (the webhook then writes the same
   * value); `last_event_at` is left to the webhook's ordering.
   */
  async setSeats(id: string, seats: number, tx?: Tx): Promise<void> {
    const manager = managerOf(tx, this.subscriptions.manager);
    await manager.update(Subscription, { id }, { seats });
  }

  /** The user's subscription, locked for the rest of the transaction. */
  async lockByUser(tx: Tx, userId: string): Promise<Subscription | null> {
    const manager = managerOf(tx);
    return manager.findOne(Subscription, { where: { userId }, lock: { mode: 'pessimistic_write' } });
  }

  async lockByStripeId(tx: Tx, stripeSubscriptionId: string): Promise<Subscription | null> {
    const manager = managerOf(tx);
    return manager.findOne(Subscription, {
      where: { stripeSubscriptionId },
      lock: { mode: 'pessimistic_write' },
    });
  }

  async insertSubscription(tx: Tx, userId: string, fields: SubscriptionFields): Promise<void> {
    const manager = managerOf(tx);
    await manager.insert(Subscription, Object.assign(new Subscription(), { userId, ...fields }));
  }

  async updateSubscription(tx: Tx, id: string, fields: SubscriptionFields): Promise<void> {
    const manager = managerOf(tx);
    await manager.update(Subscription, { id }, fields);
  }

  /** Fills in Stripe ids the row does not have yet (an out-of-order event only links, never overwrites). */
  async linkStripeIds(
    tx: Tx,
    id: string,
    ids: { subscriptionId: string | null; customerId: string | null },
  ): Promise<void> {
    const manager = managerOf(tx);
    await manager.query(
      `UPDATE subscriptions SET stripe_subscription_id = COALESCE(stripe_subscription_id, $2),
              stripe_customer_id = COALESCE(stripe_customer_id, $3) WHERE id = $1`,
      [id, ids.subscriptionId, ids.customerId],
    );
  }

  async markCanceled(tx: Tx, userId: string): Promise<void> {
    const manager = managerOf(tx);
    await manager.update(
      Subscription,
      { userId },
      { status: 'canceled', cancelAtPeriodEnd: false, lastEventAt: () => 'now()' },
    );
  }

  /** Stores a verified event once (a replay stores nothing). */
  async storeEvent(event: StoredEvent): Promise<void> {
    await this.events.query(
      `INSERT INTO stripe_events (id, type, created, payload) VALUES ($1, $2, to_timestamp($3), $4)
       ON CONFLICT (id) DO NOTHING`,
      [event.id, event.type, event.created, JSON.stringify(event.payload)],
    );
  }

  /** Locks the stored event (waiting at most 5 s for a concurrent delivery); answers whether it was processed. */
  async lockEvent(tx: Tx, id: string): Promise<{ processed: boolean }> {
    const manager = managerOf(tx);
    await manager.query(`SET LOCAL lock_timeout = '5s'`);
    const event = await manager.findOne(StripeEvent, {
      select: { id: true, processedAt: true },
      where: { id },
      lock: { mode: 'pessimistic_write' },
    });
    return { processed: !!event?.processedAt };
  }

  async markProcessed(tx: Tx, id: string, outcome: string): Promise<void> {
    const manager = managerOf(tx);
    await manager.update(StripeEvent, { id }, { processedAt: () => 'now()', outcome: outcome.slice(0, 200) });
  }
}
