import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { DeveloperAccount } from './entities/developer-account.entity.js';
import { PluginDuplicatePayment } from './entities/duplicate-payment.entity.js';
import { PluginPayout } from './entities/plugin-payout.entity.js';
import { PluginPurchase, type PurchaseStatus } from './entities/plugin-purchase.entity.js';
import type { RevenueKind } from './entities/revenue-event.entity.js';

/** What TypeORM's postgres driver answers a raw UPDATE: the rows it returned and how many it changed. */
type UpdateResult = [unknown[], number];
const affected = (result: UpdateResult): number => result[1];

/** A paid purchase to record, with its ledger entry. */
export interface SaleInput {
  userId: string;
  pluginId: string;
  developerId: string;
  paymentId: string;
  amountCents: number;
  currency: string;
  period: string;
}

/** A ledger row to write (the split computed by the caller). */
export interface RevenueInput {
  ref: string;
  kind: RevenueKind;
  pluginId: string;
  developerId: string;
  buyerId: string;
  paymentId: string;
  amountCents: number;
  developerShareCents: number;
  platformShareCents: number;
  currency: string;
  period: string;
}

/** A ledger row as the payout reads it. */
export interface UnpaidEventRow {
  id: string;
  kind: RevenueKind;
  payment_id: string;
  developer_share_cents: number;
  currency: string;
}

export interface EarningsRow {
  gross_cents: number;
  developer_share_cents: number;
  paid_out_cents: number;
  sales: number;
}

export interface PayoutCandidateRow {
  developer_id: string;
  stripe_account_id: string | null;
  payouts_enabled: boolean | null;
}

/**
 * Paid plugins: purchases (one per user and plugin), duplicate payments and
 * their refunds, the revenue ledger (one row per sale and per refund, by a
 * unique ref), developers' connected accounts and payouts (one per developer
 * and period, an outbox row committed before Stripe is called). Writes that
 * belong together take the caller's transaction.
 */
@Injectable()
export class PluginSalesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  purchaseOf(userId: string, pluginId: string): Promise<PluginPurchase | null> {
    return this.dataSource.manager.findOneBy(PluginPurchase, { userId, pluginId });
  }

  /** Of `pluginIds`, those the user bought with a purchase that is not paid now. */
  async unpaidPurchases(userId: string, pluginIds: string[]): Promise<string[]> {
    const rows = await this.dataSource.query<Array<{ plugin_id: string }>>(
      `SELECT plugin_id FROM plugin_purchases WHERE user_id = $1 AND plugin_id = ANY($2) AND status <> 'paid'`,
      [userId, pluginIds],
    );
    return rows.map((row) => row.plugin_id);
  }

  /**
   * The user's purchase of the plugin, locked, made `status` with this payment
   * when there was none (so concurrent writers meet on one row). `created`
   * says whether this call made it.
   */
  async lockOrCreatePurchase(
    tx: Tx,
    sale: SaleInput,
    status: Extract<PurchaseStatus, 'pending' | 'paid'>,
  ): Promise<{ created: boolean; purchase: PluginPurchase }> {
    const manager = managerOf(tx);
    const inserted = await manager.query<unknown[]>(
      `INSERT INTO plugin_purchases (id, user_id, plugin_id, amount_cents, currency, payment_id, status)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6)
       ON CONFLICT (user_id, plugin_id) DO NOTHING RETURNING id`,
      [sale.userId, sale.pluginId, sale.amountCents, sale.currency, sale.paymentId, status],
    );
    const purchase = await manager.findOne(PluginPurchase, {
      where: { userId: sale.userId, pluginId: sale.pluginId },
      lock: { mode: 'pessimistic_write' },
    });
    return { created: inserted.length > 0, purchase: purchase! };
  }

  /** The purchase now rests on this payment, in this state (a purchase bought again, or a payment that cleared). */
  async setPurchasePayment(
    tx: Tx,
    purchaseId: string,
    sale: SaleInput,
    status: Extract<PurchaseStatus, 'pending' | 'paid'>,
  ): Promise<void> {
    const manager = managerOf(tx);
    await manager.query(
      `UPDATE plugin_purchases SET amount_cents = $2, currency = $3, payment_id = $4, status = $5,
              refunded_at = NULL, created_at = now()
        WHERE id = $1`,
      [purchaseId, sale.amountCents, sale.currency, sale.paymentId, status],
    );
  }

  /** A pending purchase whose payment failed: canceled (the user may buy again). Answers whether one was. */
  async cancelPendingPurchase(tx: Tx, paymentId: string): Promise<boolean> {
    const manager = managerOf(tx);
    const result = await manager.query<UpdateResult>(
      `UPDATE plugin_purchases SET status = 'canceled' WHERE payment_id = $1 AND status = 'pending'`,
      [paymentId],
    );
    return affected(result) > 0;
  }

  duplicatePaymentOf(tx: Tx, paymentId: string): Promise<PluginDuplicatePayment | null> {
    const manager = managerOf(tx);
    return manager.findOneBy(PluginDuplicatePayment, { paymentId });
  }

  /** Records a payment to refund as a duplicate, once per payment; answers the row (new or earlier). */
  async recordDuplicatePayment(
    tx: Tx,
    sale: SaleInput,
    ownedByPaymentId: string,
  ): Promise<PluginDuplicatePayment> {
    const manager = managerOf(tx);
    await manager.query(
      `INSERT INTO plugin_duplicate_payments
              (id, payment_id, buyer_id, plugin_id, owned_by_payment_id, amount_cents, currency, status)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, 'refund_pending')
       ON CONFLICT (payment_id) DO NOTHING`,
      [sale.paymentId, sale.userId, sale.pluginId, ownedByPaymentId, sale.amountCents, sale.currency],
    );
    return (await this.duplicatePaymentOf(tx, sale.paymentId))!;
  }

  async markDuplicateRefunded(paymentId: string, refundId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE plugin_duplicate_payments SET status = 'refunded', refund_id = $2, refunded_at = now()
        WHERE payment_id = $1 AND status = 'refund_pending'`,
      [paymentId, refundId],
    );
  }

  /** Writes a ledger row once per ref; answers whether this call wrote it. */
  async insertRevenue(tx: Tx, event: RevenueInput): Promise<boolean> {
    const manager = managerOf(tx);
    const rows = await manager.query<Array<{ id: string }>>(
      `INSERT INTO plugin_revenue_events (id, ref, kind, plugin_id, developer_id, buyer_id, payment_id, amount_cents,
              developer_share_cents, platform_share_cents, currency, period)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (ref) DO NOTHING RETURNING id`,
      [
        event.ref,
        event.kind,
        event.pluginId,
        event.developerId,
        event.buyerId,
        event.paymentId,
        event.amountCents,
        event.developerShareCents,
        event.platformShareCents,
        event.currency,
        event.period,
      ],
    );
    return rows.length > 0;
  }

  /** The sale of a payment, locked so refunds of one payment are written one after the other. */
  async lockSale(
    tx: Tx,
    paymentId: string,
  ): Promise<{ plugin_id: string; developer_id: string; buyer_id: string; amount_cents: number } | null> {
    const manager = managerOf(tx);
    const [row] = await manager.query<
      Array<{ plugin_id: string; developer_id: string; buyer_id: string; amount_cents: number }>
    >(
      `SELECT plugin_id, developer_id, buyer_id, amount_cents FROM plugin_revenue_events
        WHERE ref = $1 AND kind = 'sale' FOR UPDATE`,
      [paymentId],
    );
    return row ?? null;
  }

  /** How much of a payment the ledger has refunded so far (positive cents). */
  async refundedOf(tx: Tx, paymentId: string): Promise<number> {
    const manager = managerOf(tx);
    const [row] = await manager.query<Array<{ refunded: number }>>(
      `SELECT COALESCE(-sum(amount_cents), 0)::int AS refunded FROM plugin_revenue_events
        WHERE payment_id = $1 AND kind = 'refund'`,
      [paymentId],
    );
    return row?.refunded ?? 0;
  }

  async markRefunded(tx: Tx, paymentId: string): Promise<void> {
    const manager = managerOf(tx);
    await manager.query(
      `UPDATE plugin_purchases SET status = 'refunded', refunded_at = COALESCE(refunded_at, now())
        WHERE payment_id = $1`,
      [paymentId],
    );
  }

  developerAccountOf(userId: string): Promise<DeveloperAccount | null> {
    return this.dataSource.manager.findOneBy(DeveloperAccount, { userId });
  }

  /** Keeps the first connected account recorded for the user. */
  async keepDeveloperAccount(userId: string, stripeAccountId: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO plugin_developer_accounts (user_id, stripe_account_id) VALUES ($1, $2)
       ON CONFLICT (user_id) DO NOTHING`,
      [userId, stripeAccountId],
    );
  }

  /**
   * Applies an account.updated unless a newer one was applied already.
   * Answers `applied`, `stale`, or `unknown` (not one of our developers).
   */
  async applyAccountUpdate(
    tx: Tx,
    stripeAccountId: string,
    state: { payoutsEnabled: boolean; detailsSubmitted: boolean; at: Date },
  ): Promise<'applied' | 'stale' | 'unknown'> {
    const manager = managerOf(tx);
    const updated = await manager.query<UpdateResult>(
      `UPDATE plugin_developer_accounts SET payouts_enabled = $2, details_submitted = $3, last_event_at = $4
        WHERE stripe_account_id = $1 AND (last_event_at IS NULL OR last_event_at <= $4)`,
      [stripeAccountId, state.payoutsEnabled, state.detailsSubmitted, state.at],
    );
    if (affected(updated) > 0) return 'applied';
    const known = await manager.existsBy(DeveloperAccount, { stripeAccountId });
    return known ? 'stale' : 'unknown';
  }

  /**
   * Developers with unpaid shares up to `period`, or with a payout a run left
   * unfinished (of any period), with their connected account when they have one.
   */
  payoutCandidates(period: string): Promise<PayoutCandidateRow[]> {
    return this.dataSource.query<PayoutCandidateRow[]>(
      `SELECT e.developer_id, a.stripe_account_id, a.payouts_enabled
         FROM (SELECT developer_id FROM plugin_revenue_events WHERE transfer_id IS NULL AND period <= $1
                UNION SELECT developer_id FROM plugin_payouts WHERE status = 'pending') e
         LEFT JOIN plugin_developer_accounts a ON a.user_id = e.developer_id
        ORDER BY e.developer_id`,
      [period],
    );
  }

  /** The developer's payouts committed but not marked paid (a run stopped between the two), oldest first. */
  unfinishedPayouts(developerId: string): Promise<PluginPayout[]> {
    return this.dataSource.manager.find(PluginPayout, {
      where: { developerId, status: 'pending' },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  /** Whether a Stripe account id is one of our developers' connected accounts. */
  isDeveloperAccount(stripeAccountId: string): Promise<boolean> {
    return this.dataSource.manager.existsBy(DeveloperAccount, { stripeAccountId });
  }

  /** The developer's account, locked: one payout claim at a time per developer. */
  lockDeveloperAccount(tx: Tx, userId: string): Promise<DeveloperAccount | null> {
    const manager = managerOf(tx);
    return manager.findOne(DeveloperAccount, { where: { userId }, lock: { mode: 'pessimistic_write' } });
  }

  async hasPayout(tx: Tx, developerId: string, period: string): Promise<boolean> {
    const manager = managerOf(tx);
    const rows = await manager.query<unknown[]>(
      `SELECT 1 FROM plugin_payouts WHERE developer_id = $1 AND period = $2`,
      [developerId, period],
    );
    return rows.length > 0;
  }

  /** The developer's ledger rows of `period` and earlier that no payout claimed, locked until the claim commits. */
  unclaimedEvents(tx: Tx, developerId: string, period: string): Promise<UnpaidEventRow[]> {
    const manager = managerOf(tx);
    return manager.query<UnpaidEventRow[]>(
      `SELECT id, kind, payment_id, developer_share_cents, currency FROM plugin_revenue_events
        WHERE developer_id = $1 AND period <= $2 AND transfer_id IS NULL AND payout_id IS NULL
        ORDER BY created_at, id FOR UPDATE`,
      [developerId, period],
    );
  }

  /** The ledger rows a payout claimed. */
  eventsOfPayout(payoutId: string): Promise<UnpaidEventRow[]> {
    return this.dataSource.query<UnpaidEventRow[]>(
      `SELECT id, kind, payment_id, developer_share_cents, currency FROM plugin_revenue_events
        WHERE payout_id = $1 ORDER BY created_at, id`,
      [payoutId],
    );
  }

  /** The transfers that paid out the sales of these payments, by payment. */
  async saleTransfers(paymentIds: string[], tx?: Tx): Promise<Map<string, string>> {
    const manager = managerOf(tx, this.dataSource.manager);
    const rows = await manager.query<Array<{ payment_id: string; transfer_id: string }>>(
      `SELECT payment_id, transfer_id FROM plugin_revenue_events
        WHERE kind = 'sale' AND payment_id = ANY($1) AND transfer_id LIKE 'tr\\_%'`,
      [paymentIds],
    );
    return new Map(rows.map((row) => [row.payment_id, row.transfer_id]));
  }

  /**
   * The outbox step: a pending payout row and its claim on exactly these
   * ledger rows, committed by the caller before any money moves.
   */
  async claimPayout(
    tx: Tx,
    payout: {
      developerId: string;
      period: string;
      amountCents: number;
      currency: string;
      idempotencyKey: string;
    },
    eventIds: string[],
  ): Promise<PluginPayout> {
    const manager = managerOf(tx);
    const row = manager.create(PluginPayout, { ...payout, status: 'pending', stripeIds: null, paidAt: null });
    await manager.insert(PluginPayout, row);
    const claimed = await manager.query<UpdateResult>(
      `UPDATE plugin_revenue_events SET payout_id = $2 WHERE id = ANY($1) AND payout_id IS NULL`,
      [eventIds, row.id],
    );
    if (affected(claimed) !== eventIds.length)
      throw new Error(`payout ${row.id}: ledger rows claimed meanwhile`);
    return row;
  }

  /** The payout is paid with these Stripe ids, and so is each ledger row it claimed (once: a second call changes nothing). */
  async markPayoutPaid(payoutId: string, stripeIds: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const paid = await manager.query<UpdateResult>(
        `UPDATE plugin_payouts SET status = 'paid', stripe_ids = $2, paid_at = now()
          WHERE id = $1 AND status = 'pending'`,
        [payoutId, stripeIds],
      );
      if (affected(paid) > 0)
        await manager.query(`UPDATE plugin_revenue_events SET transfer_id = $2 WHERE payout_id = $1`, [
          payoutId,
          stripeIds,
        ]);
    });
  }

  /** A developer's figures for one period. */
  async earnings(developerId: string, period: string): Promise<EarningsRow> {
    const [row] = await this.dataSource.query<EarningsRow[]>(
      `SELECT COALESCE(sum(amount_cents), 0)::int AS gross_cents,
              COALESCE(sum(developer_share_cents), 0)::int AS developer_share_cents,
              COALESCE(sum(developer_share_cents) FILTER (WHERE transfer_id IS NOT NULL), 0)::int AS paid_out_cents,
              count(*) FILTER (WHERE kind = 'sale')::int AS sales
         FROM plugin_revenue_events WHERE developer_id = $1 AND period = $2`,
      [developerId, period],
    );
    return row;
  }
}
