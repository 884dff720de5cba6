import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import type { Tx } from '../../database/unit-of-work.js';
import {
  PaymentProviderError,
  PaymentsGateway,
  StripeEventHandlers,
  type VerifiedEvent,
} from '../billing/index.js';
import {
  type DeveloperStatusDto,
  type EarningsDto,
  type EarningsQueryDto,
  mapDeveloperStatus,
  type OnboardingLinkDto,
} from './dto/sales.dto.js';
import { PluginSalesException } from './plugin-sales.errors.js';
import { PAYMENTS_NOT_CONFIGURED } from './purchases.service.js';
import { periodOf } from './revenue-split.js';
import { PluginSalesRepository } from './plugin-sales.repository.js';

/**
 * Plugin developers as payees: their Stripe Express connected account (made
 * once, onboarded through Stripe's link), its payout state from account.updated,
 * and their earnings per period.
 */
@Injectable()
export class DevelopersService implements OnModuleInit {
  constructor(
    private readonly sales: PluginSalesRepository,
    private readonly gateway: PaymentsGateway,
    private readonly handlers: StripeEventHandlers,
  ) {}

  onModuleInit(): void {
    // Connected accounts' events come signed by the Connect endpoint, and only for accounts we recorded.
    this.handlers.register('account.updated', (m, e) => this.accountUpdated(m, e), { source: 'connect' });
    this.handlers.setConnectedAccountCheck((accountId) => this.sales.isDeveloperAccount(accountId));
  }

  /** Creates the caller's connected account once and answers a fresh onboarding link for it. */
  async connect(user: AuthUser): Promise<OnboardingLinkDto> {
    if (!this.gateway.configured)
      throw new PluginSalesException('feature_not_configured', PAYMENTS_NOT_CONFIGURED);
    return this.provider(async () => {
      let account = await this.sales.developerAccountOf(user.id);
      if (!account) {
        const created = await this.gateway.createConnectedAccount(
          user.id,
          user.email,
          `connect-account:${user.id}`,
        );
        await this.sales.keepDeveloperAccount(user.id, created);
        account = await this.sales.developerAccountOf(user.id);
      }
      return { onboarding_url: await this.gateway.createOnboardingLink(account!.stripeAccountId) };
    });
  }

  async status(user: AuthUser): Promise<DeveloperStatusDto> {
    return mapDeveloperStatus(await this.sales.developerAccountOf(user.id));
  }

  async earnings(user: AuthUser, query: EarningsQueryDto): Promise<EarningsDto> {
    const period = query.period ?? periodOf(new Date());
    const row = await this.sales.earnings(user.id, period);
    return {
      period,
      gross_cents: row.gross_cents,
      developer_share_cents: row.developer_share_cents,
      paid_out_cents: row.paid_out_cents,
      pending_cents: row.developer_share_cents - row.paid_out_cents,
      sales: row.sales,
    };
  }

  /**
   * account.updated of a connected account: whether payouts may go to it (an
   * older event never overwrites). The account is the event's own
   * (`event.account`, checked to be ours before this runs), never only the
   * payload's.
   */
  private async accountUpdated(tx: Tx, event: VerifiedEvent): Promise<string> {
    const account = event.data.object;
    if (typeof account.id !== 'string') return 'ignored: no account id';
    if (account.id !== event.account)
      return `ignored: the account updated is not the event's (${event.account})`;
    const outcome = await this.sales.applyAccountUpdate(tx, account.id, {
      payoutsEnabled: account.payouts_enabled === true,
      detailsSubmitted: account.details_submitted === true,
      at: new Date(event.created * 1000),
    });
    if (outcome === 'unknown') return 'ignored: not a plugin developer account';
    if (outcome === 'stale') return 'stale: newer state already applied';
    return `developer account ${account.id}: payouts ${account.payouts_enabled === true ? 'enabled' : 'disabled'}`;
  }

  private async provider<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof PaymentProviderError)) throw err;
      throw new PluginSalesException('provider_unavailable', `Payment provider error: ${err.message}`);
    }
  }
}
