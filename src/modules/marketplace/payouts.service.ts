import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { PaymentProviderError, PaymentsGateway } from '../billing/index.js';
import type { PayoutReportDto, PayoutResultDto, PayoutSkipDto } from './dto/sales.dto.js';
import { MarketplaceException } from './marketplace.errors.js';
import { PAYMENTS_NOT_CONFIGURED } from './purchases.service.js';
import { type PayoutCandidateRow, SalesRepository, type UnpaidEventRow } from './sales.repository.js';

type Outcome = { paid: PayoutResultDto } | { skipped: PayoutSkipDto };

/**
 * Monthly payouts of developer shares: one Stripe transfer per developer with
 * payouts enabled and period, of everything unpaid up to that period, net of
 * refunds. A refund of a share already paid is netted against new sales, or
 * taken back with a transfer reversal when nothing is left to net against.
 * Running it twice pays once: a payout row per developer and period, and
 * Stripe idempotency keys derived from both.
 */
@Injectable()
export class PayoutsService {
  private readonly logger = new Logger('Marketplace');

  constructor(
    private readonly sales: SalesRepository,
    private readonly gateway: PaymentsGateway,
  ) {}

  async run(period: string): Promise<PayoutReportDto> {
    if (!this.gateway.configured)
      throw new MarketplaceException('feature_not_configured', PAYMENTS_NOT_CONFIGURED);
    const report: PayoutReportDto = { period, paid: [], skipped: [] };
    for (const candidate of await this.sales.payoutCandidates(period)) {
      const outcome = await this.payOne(candidate, period);
      if ('paid' in outcome) report.paid.push(outcome.paid);
      else report.skipped.push(outcome.skipped);
    }
    return report;
  }

  private async payOne(candidate: PayoutCandidateRow, period: string): Promise<Outcome> {
    const skip = (reason: PayoutSkipDto['reason'], detail?: string): Outcome => ({
      skipped: { developer_id: candidate.developer_id, reason, ...(detail ? { detail } : {}) },
    });
    if (!candidate.stripe_account_id) return skip('no_connected_account');
    if (!candidate.payouts_enabled) return skip('payouts_not_enabled');
    try {
      // The Stripe calls happen under the developer's lock, so two runs at once cannot both pay.
      return await this.sales.transaction((manager) => this.settle(manager, candidate.developer_id, period));
    } catch (err) {
      if (!(err instanceof PaymentProviderError)) throw err;
      this.logger.warn(`Payout of ${candidate.developer_id} for ${period} failed: ${err.message}`);
      return skip('provider_error', err.message);
    }
  }

  private async settle(manager: EntityManager, developerId: string, period: string): Promise<Outcome> {
    const account = await this.sales.lockDeveloperAccount(manager, developerId);
    if (!account?.payoutsEnabled)
      return { skipped: { developer_id: developerId, reason: 'payouts_not_enabled' } };
    if (await this.sales.hasPayout(manager, developerId, period))
      return { skipped: { developer_id: developerId, reason: 'already_paid' } };
    const events = await this.sales.unpaidEvents(manager, developerId, period);
    if (events.length === 0) return { skipped: { developer_id: developerId, reason: 'nothing_due' } };
    const currency = events[0].currency;
    if (events.some((e) => e.currency !== currency))
      throw new Error(`developer ${developerId} has unpaid shares in several currencies`);
    const net = events.reduce((sum, e) => sum + e.developer_share_cents, 0);
    const moved = await this.move(
      manager,
      { developerId, period, currency, net, events },
      account.stripeAccountId,
    );
    const stripeIds = moved.transferId ?? (moved.reversalIds.join(',') || `netted:${period}`);
    const ids = events.map((e) => e.id);
    await this.sales.settle(manager, { developerId, period, amountCents: net, currency, stripeIds }, ids);
    return {
      paid: {
        developer_id: developerId,
        amount_cents: net,
        currency,
        transfer_id: moved.transferId,
        reversal_ids: moved.reversalIds,
        events: events.length,
      },
    };
  }

  /** One transfer of a positive net; reversals of a negative one; nothing when sales and refunds cancel out. */
  private async move(
    manager: EntityManager,
    due: { developerId: string; period: string; currency: string; net: number; events: UnpaidEventRow[] },
    destination: string,
  ): Promise<{ transferId: string | null; reversalIds: string[] }> {
    const key = `${due.developerId}:${due.period}`;
    if (due.net < 0)
      return { transferId: null, reversalIds: await this.reverse(manager, due.events, -due.net, key) };
    if (due.net === 0) return { transferId: null, reversalIds: [] };
    const transferId = await this.gateway.createTransfer({
      amountCents: due.net,
      currency: due.currency.toLowerCase(),
      destination,
      transferGroup: `plugin-payout-${due.period}`,
      metadata: { developer_id: due.developerId, period: due.period },
      idempotencyKey: `plugin-payout:${key}`,
    });
    return { transferId, reversalIds: [] };
  }

  /**
   * Takes `amount` back from the transfers that paid the refunded sales, each
   * reversal at most the refunded share of its sale: refunds outweighed new
   * sales, so there is nothing left to net them against.
   */
  private async reverse(
    manager: EntityManager,
    events: UnpaidEventRow[],
    amount: number,
    key: string,
  ): Promise<string[]> {
    const refunds = events.filter((e) => e.kind === 'refund');
    const transfers = await this.sales.saleTransfers(manager, [...new Set(refunds.map((e) => e.payment_id))]);
    const perTransfer = new Map<string, number>();
    let left = amount;
    for (const refund of refunds) {
      const transferId = transfers.get(refund.payment_id);
      if (!transferId || left === 0) continue;
      const take = Math.min(left, -refund.developer_share_cents);
      perTransfer.set(transferId, (perTransfer.get(transferId) ?? 0) + take);
      left -= take;
    }
    if (left > 0)
      throw new Error(`refunds of ${amount} cents exceed the shares paid out (${left} unmatched)`);
    const reversalIds: string[] = [];
    for (const [transferId, cents] of perTransfer)
      reversalIds.push(
        await this.gateway.reverseTransfer(transferId, cents, `plugin-reversal:${key}:${transferId}`),
      );
    return reversalIds;
  }
}
