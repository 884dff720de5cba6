import { Injectable } from '@nestjs/common';
import { normaliseEmail } from '../../common/input/email.js';
import type { Tx } from '../../database/unit-of-work.js';
import { AuthAccountDataRepository } from './account-data.repository.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { PasswordService } from './password.service.js';
import { SessionsRepository } from './sessions.repository.js';

/** An account as the export and erasure flows need it. */
export interface AccountIdentity {
  id: string;
  email: string;
  disabled: boolean;
  /** False for accounts that sign in only through SSO or GitHub (no usable password). */
  hasPassword: boolean;
}

/**
 * What the account module (export and erasure) asks of accounts: check a
 * password, disable an account pending its erasure (every session and API
 * key ended at once) and restore it. The caller cuts live sockets once its
 * transaction committed.
 */
@Injectable()
export class AccountLifecycleService {
  constructor(
    private readonly repository: AuthAccountDataRepository,
    private readonly sessions: SessionsRepository,
    private readonly apiKeys: ApiKeysRepository,
    private readonly passwords: PasswordService,
  ) {}

  async identityOf(userId: string): Promise<AccountIdentity | null> {
    const user = await this.repository.userOf(userId);
    return user ? toIdentity(user) : null;
  }

  /** Whether `password` is the account's; false for an unknown account or one without a password. */
  async passwordMatches(userId: string, password: string): Promise<boolean> {
    const user = await this.repository.userOf(userId);
    return this.passwords.verify(user?.password_hash ?? null, password);
  }

  /**
   * Whether the request's session (of this user, not revoked) was opened by an
   * SSO or GitHub sign-in at most `withinSeconds` ago: how an account without
   * a password proves it is its owner's.
   */
  freshProviderSignIn(userId: string, sessionId: string, withinSeconds: number): Promise<boolean> {
    return this.sessions.openedByProviderWithin(userId, sessionId, withinSeconds);
  }

  /**
   * The account these credentials sign in to, disabled or not (restoring one
   * is the point); null when either is wrong. An unknown email still costs
   * one verification, so the answer's time does not tell which.
   */
  async findByCredentials(email: string, password: string): Promise<AccountIdentity | null> {
    const user = await this.repository.userByEmail(normaliseEmail(email));
    const ok = await this.passwords.verify(user?.password_hash ?? null, password);
    return ok && user ? toIdentity(user) : null;
  }

  /** Disables the account and ends every session and API key of it, inside the caller's transaction. */
  async disable(tx: Tx, userId: string): Promise<void> {
    await this.repository.setDisabled(tx, userId, true);
    await this.sessions.revokeAllOfUser(tx, userId, 'account_deleted');
    await this.apiKeys.revokeAllOfUser(tx, userId);
  }

  /** Enables a disabled account (its ended sessions and keys stay ended: the user signs in again). */
  async enable(tx: Tx, userId: string): Promise<void> {
    await this.repository.setDisabled(tx, userId, false);
  }
}

/** Argon2 hashes start with `$`; an SSO or GitHub account has none (null, or a marker that verifies nothing). */
function toIdentity(user: {
  id: string;
  email: string;
  disabled_at: Date | null;
  password_hash: string | null;
}): AccountIdentity {
  return {
    id: user.id,
    email: user.email,
    disabled: user.disabled_at !== null,
    hasPassword: user.password_hash?.startsWith('$') ?? false,
  };
}
