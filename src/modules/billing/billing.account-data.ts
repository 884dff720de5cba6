import { Injectable, Logger } from '@nestjs/common';
import {
  AccountDataParticipant,
  type AccountArchive,
  type ErasedAccount,
  type ExportedAccount,
} from '../../common/account-data/account-data.js';
import { AccountsService } from '../auth/index.js';
import { BillingAccountDataRepository } from './account-data.repository.js';
import { PaymentsGateway } from './payments.gateway.js';

const RENEWING = new Set(['active', 'trialing', 'past_due']);

/**
 * The subscription (in account.json). Disabling an account stops its
 * renewal (cancel at period end, through Stripe); erasing it deletes the
 * Stripe customer, the subscription row and the account's traces in stored
 * webhook payloads. A Stripe failure throws: the erasure is retried later.
 */
@Injectable()
export class BillingAccountData extends AccountDataParticipant {
  readonly name = 'billing';
  readonly eraseOrder = 70;
  private readonly logger = new Logger('Billing');

  constructor(
    private readonly repository: BillingAccountDataRepository,
    private readonly payments: PaymentsGateway,
    private readonly accounts: AccountsService,
  ) {
    super();
  }

  async export(account: ExportedAccount, archive: AccountArchive): Promise<void> {
    const subscription = await this.repository.subscriptionOf(account.userId);
    archive.addAccountSection(
      'subscription',
      subscription && {
        ...subscription,
        current_period_end:
          subscription.current_period_end && new Date(subscription.current_period_end).getTime(),
        created_at: new Date(subscription.created_at).getTime(),
      },
    );
  }

  async erase(account: ErasedAccount): Promise<void> {
    const subscription = await this.repository.subscriptionOf(account.userId);
    const customers = [
      ...new Set(
        [await this.accounts.stripeCustomerIdOf(account.userId), subscription?.stripe_customer_id].filter(
          (id): id is string => !!id,
        ),
      ),
    ];
    if (customers.length > 0 && !this.payments.configured) {
      this.logger.warn(
        'An erased account had a Stripe customer, but Stripe is not configured: delete it by hand',
      );
    } else {
      for (const customer of customers) await this.payments.deleteCustomer(customer);
    }
    await this.repository.erase(account.userId, customers);
  }

  override async onDisabled(userId: string): Promise<void> {
    await this.setRenewal(userId, true);
  }

  override async onRestored(userId: string): Promise<void> {
    await this.setRenewal(userId, false);
  }

  private async setRenewal(userId: string, cancel: boolean): Promise<void> {
    const subscription = await this.repository.subscriptionOf(userId);
    if (!subscription?.stripe_subscription_id || !RENEWING.has(subscription.status)) return;
    if (subscription.cancel_at_period_end === cancel || !this.payments.configured) return;
    await this.payments.setCancelAtPeriodEnd(subscription.stripe_subscription_id, cancel);
    await this.repository.setCancelAtPeriodEnd(userId, cancel);
  }
}
