import { Injectable, Logger } from '@nestjs/common';
import { effectiveTier } from './effective-tier.js';
import { AppConfig } from '../../config/app-config.js';
import { AccountsService } from './accounts.service.js';
import type { AuthUser } from './auth.types.js';
import { type PrincipalRow, PrincipalsRepository } from './principals.repository.js';
import { sha256Hex } from './token.service.js';

/**
 * Turns credentials into the request's principal with one query per request:
 * the user (enabled), its role and its effective tier, read fresh from the
 * database every time, so a revoked session, a disabled account or a
 * downgrade takes effect on the very next request.
 */
@Injectable()
export class PrincipalService {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly principals: PrincipalsRepository,
    private readonly accounts: AccountsService,
    private readonly config: AppConfig,
  ) {}

  /** The principal of an access token, or null when the user is gone/disabled or the session revoked. */
  async forAccessToken(userId: string, sessionId: string): Promise<AuthUser | null> {
    const row = await this.principals.forSession(userId, sessionId);
    if (!row) return null;
    if (row.stale) this.touch(this.principals.touchSession(sessionId));
    return { ...this.fromRow(row), via: 'jwt', sessionId };
  }

  /** The owner of an API key (active, owner enabled), or null. */
  async forApiKey(key: string): Promise<AuthUser | null> {
    const row = await this.principals.forApiKeyHash(sha256Hex(key));
    if (!row?.keyId) return null;
    if (row.stale) this.touch(this.principals.touchApiKey(row.keyId));
    return { ...this.fromRow(row), via: 'api_key', apiKeyId: row.keyId };
  }

  private fromRow(row: PrincipalRow): Omit<AuthUser, 'via'> {
    return {
      id: row.id,
      email: row.email,
      role: this.accounts.roleOf(row),
      tier: effectiveTier(row.tierOverride, row.subscription, this.config.defaultTier, row.teamSubscription),
    };
  }

  /** Bookkeeping write that must not fail or slow the request it rides on. */
  private touch(write: Promise<void>): void {
    write.catch((err: unknown) => {
      this.logger.warn(`Could not update last-used time: ${(err as Error).message}`);
    });
  }
}
