import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { type Tx, UnitOfWork } from '../../database/unit-of-work.js';
import { PaymentProviderError, PaymentsGateway } from '../billing/index.js';
import type { PayoutFailureDto, PayoutReportDto, PayoutResultDto, PayoutSkipDto } from './dto/sales.dto.js';
import type { PluginPayout } from './entities/plugin-payout.entity.js';
import { PluginSalesException } from './plugin-sales.errors.js';
import { PAYMENTS_NOT_CONFIGURED } from './purchases.service.js';
import {
  type PayoutCandidateRow,
  PluginSalesRepository,
  type UnpaidEventRow,
} from './plugin-sales.repository.js';

/** A developer's payout that cannot be made as the ledger stands; reported, and the others are paid. */
class PayoutRefused extends Error {
  constructor(
    readonly reason: Extract<PayoutFailureDto['reason'], 'mixed_currencies' | 'unmatched_refund'>,
    message: string,
  ) {
    super(message);
  }
}

type Claim = { skipped: PayoutSkipDto['reason'] } | { payout: PluginPayout };

/**
 * Monthly payouts of developer shares through an outbox: for each developer
 * with payouts enabled, one payout row per period, covering everything
 * unclaimed up to that period net of refunds, is committed (claiming exactly
 * those ledger rows, with an idempotency key derived from the developer and
 * the rows) before any money moves; the Stripe transfer is then made outside
 * any transaction with that key; the row is marked paid with Stripe's id.
 * A run that stopped in between leaves the row pending, and the next run
 * finishes it first: with the same key, after looking for the transfer in
 * the payout's own transfer_group (Stripe forgets keys after 24 h), so a
 * ledger row is paid once. A refund of a share already paid is netted
 * against new sales, or taken back with a transfer reversal when nothing is
 * left to net against. Each developer is paid on their own: a failure is
 * listed in the report and the others are paid.
 */
@Injectable()
export class PayoutsService {
  private readonly logger = new Logger('PluginPayouts');

  constructor(
    private readonly sales: PluginSalesRepository,
    private readonly gateway: PaymentsGateway,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async run(period: string): Promise<PayoutReportDto> {
    if (!this.gateway.configured)
      throw new PluginSalesException('feature_not_configured', PAYMENTS_NOT_CONFIGURED);
    const report: PayoutReportDto = { period, paid: [], skipped: [], failed: [] };
    for (const candidate of await this.sales.payoutCandidates(period)) {
      try {
        await this.payDeveloper(candidate, period, report);
      } catch (err) {
        report.failed.push(this.failure(candidate.developer_id, err));
      }
    }
    return report;
  }

  private async payDeveloper(candidate: PayoutCandidateRow, period: string, report: PayoutReportDto) {
    const developerId = candidate.developer_id;
    const skip = (reason: PayoutSkipDto['reason']) =>
      report.skipped.push({ developer_id: developerId, reason });
    if (!candidate.stripe_account_id) return skip('no_connected_account');
    if (!candidate.payouts_enabled) return skip('payouts_not_enabled');
    // What an earlier run committed is finished before anything new is claimed (a failure stops here).
    let finished = 0;
    for (const payout of await this.sales.unfinishedPayouts(developerId)) {
      report.paid.push(await this.finish(payout, candidate.stripe_account_id, true));
      finished += 1;
    }
    const claim = await this.unitOfWork.run((tx) => this.claim(tx, developerId, period));
    if ('payout' in claim)
      report.paid.push(await this.finish(claim.payout, candidate.stripe_account_id, false));
    else if (finished === 0) skip(claim.skipped);
  }

  /**
   * The outbox step, in one short transaction under the developer's lock: the
   * payout row and its claim on the unclaimed ledger rows, or why there is none.
   * Nothing leaves the database here.
   */
  private async claim(tx: Tx, developerId: string, period: string): Promise<Claim> {
    const account = await this.sales.lockDeveloperAccount(tx, developerId);
    if (!account?.payoutsEnabled) return { skipped: 'payouts_not_enabled' };
    if (await this.sales.hasPayout(tx, developerId, period)) return { skipped: 'already_paid' };
    const events = await this.sales.unclaimedEvents(tx, developerId, period);
    if (events.length === 0) return { skipped: 'nothing_due' };
    const currency = events[0].currency;
    const currencies = [...new Set(events.map((e) => e.currency))];
    if (currencies.length > 1)
      throw new PayoutRefused(
        'mixed_currencies',
        `unpaid shares in ${currencies.join(', ')}: one transfer carries one currency; settle by hand`,
      );
    const net = events.reduce((sum, e) => sum + e.developer_share_cents, 0);
    // Refused now rather than after the claim, so rows that cannot be settled stay unclaimed.
    if (net < 0) await this.reversalPlan(events, -net, tx);
    const payout = await this.sales.claimPayout(
      tx,
      { developerId, period, amountCents: net, currency, idempotencyKey: payoutKey(developerId, events) },
      events.map((e) => e.id),
    );
    return { payout };
  }

  /** Moves the money of a committed payout (at most once) and marks it paid. */
  private async finish(
    payout: PluginPayout,
    destination: string,
    fromEarlierRun: boolean,
  ): Promise<PayoutResultDto> {
    const events = await this.sales.eventsOfPayout(payout.id);
    const key = payout.idempotencyKey!;
    let transferId: string | null = null;
    let reversalIds: string[] = [];
    if (payout.amountCents > 0)
      transferId = await this.transferOnce(payout, key, destination, fromEarlierRun);
    else if (payout.amountCents < 0)
      reversalIds = await this.reverse(await this.reversalPlan(events, -payout.amountCents), key);
    await this.sales.markPayoutPaid(
      payout.id,
      transferId ?? (reversalIds.join(',') || `netted:${payout.period}`),
    );
    return {
      developer_id: payout.developerId,
      period: payout.period,
      amount_cents: payout.amountCents,
      currency: payout.currency,
      transfer_id: transferId,
      reversal_ids: reversalIds,
      events: events.length,
    };
  }

  /**
   * The payout's one transfer. A payout an earlier run committed may have been
   * paid at Stripe before that run stopped: its transfer is looked up in the
   * payout's own transfer_group first and reconciled, not repeated; otherwise
   * it is made with the payout's key (which Stripe also answers with the
   * first transfer within its 24 h window).
   */
  private async transferOnce(
    payout: PluginPayout,
    key: string,
    destination: string,
    fromEarlierRun: boolean,
  ): Promise<string> {
    if (fromEarlierRun) {
      const [made] = (await this.gateway.transfersInGroup(key)).filter((t) => t.metadata.payout_key === key);
      if (made) {
        this.logger.log(`Payout ${payout.id}: transfer ${made.id} found at Stripe, reconciled`);
        return made.id;
      }
    }
    return this.gateway.createTransfer({
      amountCents: payout.amountCents,
      currency: payout.currency.toLowerCase(),
      destination,
      transferGroup: key,
      metadata: {
        developer_id: payout.developerId,
        period: payout.period,
        payout_id: payout.id,
        payout_key: key,
      },
      idempotencyKey: key,
    });
  }

  /**
   * How `amount` is taken back from the transfers that paid the refunded
   * sales, each reversal at most the refunded share of its sale: refunds
   * outweighed new sales, so there is nothing left to net them against.
   */
  private async reversalPlan(
    events: UnpaidEventRow[],
    amount: number,
    tx?: Tx,
  ): Promise<Map<string, number>> {
    const refunds = events.filter((e) => e.kind === 'refund');
    const transfers = await this.sales.saleTransfers([...new Set(refunds.map((e) => e.payment_id))], tx);
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
      throw new PayoutRefused(
        'unmatched_refund',
        `refunds of ${amount} cents exceed the shares paid out by transfers (${left} cents match no transfer)`,
      );
    return perTransfer;
  }

  /** The reversals of a plan, each once (its key is also found on the reversal at Stripe). */
  private async reverse(plan: Map<string, number>, key: string): Promise<string[]> {
    const reversalIds: string[] = [];
    for (const [transferId, cents] of plan)
      reversalIds.push(
        await this.gateway.reverseTransfer(transferId, cents, `plugin-reversal:${key}:${transferId}`),
      );
    return reversalIds;
  }

  private failure(developerId: string, err: unknown): PayoutFailureDto {
    if (err instanceof PayoutRefused) {
      this.logger.warn(`Payout of ${developerId} refused: ${err.message}`);
      return { developer_id: developerId, reason: err.reason, detail: err.message };
    }
    if (err instanceof PaymentProviderError) {
      this.logger.warn(`Payout of ${developerId} failed at Stripe: ${err.message}`);
      return { developer_id: developerId, reason: 'provider_error', detail: err.message };
    }
    this.logger.error(`Payout of ${developerId} failed: ${(err as Error)?.stack ?? String(err)}`);
    return {
      developer_id: developerId,
      reason: 'internal_error',
      detail:
        'the payout could not be recorded (see the server log); the next run finishes it without paying twice',
    };
  }
}

/**
 * `plugin-payout:<developer>:<digest>`, the digest of exactly the ledger rows
 * a payout covers: the same rows always give the same key, other rows another.
 */
function payoutKey(developerId: string, events: UnpaidEventRow[]): string {
  const rows = events
    .map((e) => e.id)
    .sort()
    .join(',');
  return `plugin-payout:${developerId}:${createHash('sha256').update(rows).digest('hex').slice(0, 32)}`;
}
