import { Injectable } from '@nestjs/common';
import {
  AccountDataParticipant,
  type AccountArchive,
  type ErasedAccount,
  type ExportedAccount,
} from '../../common/account-data/account-data.js';
import { AccountsService } from './accounts.service.js';
import { AuthAccountDataRepository } from './account-data.repository.js';

const ms = (date: Date | null) => (date ? new Date(date).getTime() : null);

/**
 * The account itself: its profile, sessions and API keys (names and
 * prefixes) in account.json; erased last, since every module's rows hang
 * from the user row (its sessions, refresh tokens and keys go with it).
 */
@Injectable()
export class AuthAccountData extends AccountDataParticipant {
  readonly name = 'auth';
  readonly eraseOrder = 100;

  constructor(
    private readonly repository: AuthAccountDataRepository,
    private readonly accounts: AccountsService,
  ) {
    super();
  }

  async export(account: ExportedAccount, archive: AccountArchive): Promise<void> {
    const user = await this.repository.userOf(account.userId);
    if (user) {
      archive.addAccountSection('profile', {
        id: user.id,
        email: user.email,
        tier: await this.accounts.effectiveTierOf(user.id),
        tier_override: user.tier_override,
        role: this.accounts.roleOf(user),
        created_at: ms(user.created_at),
        disabled_at: ms(user.disabled_at),
      });
    }
    const sessions = await this.repository.sessionsOf(account.userId);
    archive.addAccountSection(
      'sessions',
      sessions.map((s) => ({
        ...s,
        created_at: ms(s.created_at),
        last_used_at: ms(s.last_used_at),
        revoked_at: ms(s.revoked_at),
      })),
    );
    const keys = await this.repository.apiKeysOf(account.userId);
    archive.addAccountSection(
      'api_keys',
      keys.map((k) => ({
        ...k,
        created_at: ms(k.created_at),
        last_used_at: ms(k.last_used_at),
        revoked_at: ms(k.revoked_at),
      })),
    );
  }

  async erase(account: ErasedAccount): Promise<void> {
    await this.repository.deleteUser(account.userId);
  }
}
