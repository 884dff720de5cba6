import { Injectable } from '@nestjs/common';
import { normaliseEmail } from '../../common/input/email.js';
import { AppConfig } from '../../config/app-config.js';
import type { Tx } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import { AccountsRepository } from './accounts.repository.js';
import { AuthException } from './auth.errors.js';
import type { AuthTokensDto } from './dto/auth.dto.js';
import { PasswordService } from './password.service.js';
import { SessionsRepository } from './sessions.repository.js';
import { TokenService } from './token.service.js';

/** An account as a sign-in through another provider sees it. */
export interface ExternalAccount {
  id: string;
  email: string;
  /** False for accounts made by single sign-on or GitHub: they have no password to prove ownership with. */
  hasPassword: boolean;
  disabled: boolean;
}

/** How an account came to be, for the audit log; and how a provider's session was opened. */
export type SignUpVia = 'sso' | 'github';

/**
 * What sign-in through an identity provider (team SSO, GitHub) needs from accounts: find one
 * by email, make one without a password, check a password once to link, and open a session
 * that yields the same AuthTokens as /auth/login.
 */
@Injectable()
export class ExternalAccountsService {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly sessions: SessionsRepository,
    private readonly passwords: PasswordService,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  async findByEmail(email: string, tx?: Tx): Promise<ExternalAccount | null> {
    const user = await this.accounts.findByEmail(normaliseEmail(email), tx);
    return user ? toExternal(user) : null;
  }

  async findById(id: string, tx?: Tx): Promise<ExternalAccount | null> {
    const user = await this.accounts.findById(id, tx);
    return user ? toExternal(user) : null;
  }

  /** A new account without a password (it signs in through `via` only); audited as a registration. */
  async createWithoutPassword(tx: Tx, email: string, via: SignUpVia): Promise<ExternalAccount> {
    const normalised = normaliseEmail(email);
    const user = await this.accounts.insert(tx, {
      email: normalised,
      passwordHash: null,
      role: this.config.adminEmails.includes(normalised) ? 'admin' : 'user',
      tierOverride: null,
      disabledAt: null,
    });
    await this.audit.record(
      { eventType: 'auth.register', actorId: user.id, subjectId: user.id, data: { via } },
      tx,
    );
    return toExternal(user);
  }

  /** Whether `password` is the account's (an account without one never matches). */
  async passwordMatches(userId: string, password: string): Promise<boolean> {
    const user = await this.accounts.findById(userId);
    return this.passwords.verify(user?.passwordHash ?? null, password);
  }

  /**
   * A new session of the account, as /auth/login opens one, remembered as
   * opened through `via` (a fresh one confirms a passwordless account's
   * deletion); a disabled account is refused.
   */
  async openSession(
    tx: Tx,
    userId: string,
    deviceName: string | null,
    via: SignUpVia,
  ): Promise<AuthTokensDto> {
    const user = await this.accounts.lockById(tx, userId);
    if (!user || user.disabledAt) throw new AuthException('forbidden', 'This account is disabled');
    const session = await this.sessions.open(tx, userId, deviceName, via);
    const refresh = this.tokens.newRefreshToken();
    await this.sessions.addRefreshToken(tx, session.id, refresh.hash);
    return this.tokens.authTokens(userId, session.id, refresh.token);
  }
}

function toExternal(user: {
  id: string;
  email: string;
  passwordHash: string | null;
  disabledAt: Date | null;
}): ExternalAccount {
  return {
    id: user.id,
    email: user.email,
    hasPassword: user.passwordHash !== null,
    disabled: user.disabledAt !== null,
  };
}
