import { Injectable, Logger } from '@nestjs/common';
import { AccountDataRegistry } from '../../common/account-data/account-data.registry.js';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { ConnectionsService } from '../../common/realtime/connections.service.js';
import { AppConfig } from '../../config/app-config.js';
import { isUniqueViolation } from '../../database/sql.js';
import { UnitOfWork } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import { AccountLifecycleService } from '../auth/index.js';
import { AccountException } from './account.errors.js';
import { AccountRepository } from './account.repository.js';
import type { AccountRestoredDto, ErasureDto, ErasureScheduledDto } from './dto/account.dto.js';
import type { AccountErasure } from './entities/account-erasure.entity.js';

const DAY = 24 * 3_600_000;
/** How recent a provider sign-in confirms a passwordless account's deletion. */
export const FRESH_SIGN_IN_SECONDS = 10 * 60;

/**
 * Erasure: the account is disabled at once and erased once its grace period
 * has passed, participant by participant in their order, each recorded as it
 * finishes; a failure (a blob store outage, Stripe down) leaves the erasure
 * `retrying` with its error, and the next run resumes at the participant
 * that failed. Restorable while nothing of it has run.
 */
@Injectable()
export class AccountErasureService {
  private readonly logger = new Logger('AccountErasure');

  constructor(
    private readonly repository: AccountRepository,
    private readonly registry: AccountDataRegistry,
    private readonly accounts: AccountLifecycleService,
    private readonly audit: AuditService,
    private readonly connections: ConnectionsService,
    private readonly unitOfWork: UnitOfWork,
    private readonly config: AppConfig,
  ) {}

  /**
   * DELETE /account: the owner confirms it (the password; for an account
   * without one, a fresh SSO or GitHub sign-in), then the account is disabled
   * and its erasure scheduled.
   */
  async request(user: AuthUser, password: string | undefined): Promise<ErasureScheduledDto> {
    const identity = await this.accounts.identityOf(user.id);
    if (!identity) throw new AccountException('not_found', 'Account not found');
    if (identity.hasPassword) await this.assertPassword(user.id, password);
    else await this.assertFreshSignIn(user);
    return this.disableAndSchedule(user.id);
  }

  private async assertPassword(userId: string, password: string | undefined): Promise<void> {
    if (password === undefined) {
      throw new AccountException('validation_failed', ['password must be a string']);
    }
    if (!(await this.accounts.passwordMatches(userId, password))) {
      throw new AccountException('invalid_credentials', 'The password is not this account’s');
    }
  }

  /**
   * An account made by SSO or GitHub has no password: the request's own
   * session must have been opened by a provider sign-in minutes ago. An API
   * key, or an older session, proves only that someone holds a credential.
   */
  private async assertFreshSignIn(user: AuthUser): Promise<void> {
    const fresh =
      user.via === 'jwt' &&
      user.sessionId !== undefined &&
      (await this.accounts.freshProviderSignIn(user.id, user.sessionId, FRESH_SIGN_IN_SECONDS));
    if (!fresh) {
      throw new AccountException(
        'reauthentication_required',
        'This account has no password: sign in again through its provider (team single sign-on or GitHub), ' +
          'then send DELETE /account with the new access token within 10 minutes',
      );
    }
  }

  /**
   * Disables the account and schedules its erasure, for a caller that has
   * already proven it is the owner (the password above; an SSO module calls
   * it after a fresh sign-in).
   */
  async disableAndSchedule(userId: string): Promise<ErasureScheduledDto> {
    const identity = await this.accounts.identityOf(userId);
    if (!identity) throw new AccountException('not_found', 'Account not found');
    const scheduledFor = new Date(Date.now() + this.config.accountErasure.graceDays * DAY);
    const erasure = await this.schedule(userId, identity.email, scheduledFor);
    await this.connections.revoke({ userId }, { code: 'session_ended', message: 'The account was deleted' });
    await this.eachParticipant('disabled', (p) => p.onDisabled(userId));
    return { erasure_id: erasure.id, scheduled_for: erasure.scheduledFor.getTime() };
  }

  /**
   * Disables the account and records its erasure in one transaction. Two
   * simultaneous requests (both past the guard before either revoked the
   * session) meet at the one-live-erasure index: the second answers the
   * erasure the first scheduled.
   */
  private async schedule(userId: string, email: string, scheduledFor: Date): Promise<AccountErasure> {
    try {
      return await this.insertScheduled(userId, email, scheduledFor);
    } catch (err) {
      const live = isUniqueViolation(err) ? await this.repository.liveErasureOf(userId) : null;
      if (!live) throw err;
      return live;
    }
  }

  private insertScheduled(userId: string, email: string, scheduledFor: Date): Promise<AccountErasure> {
    return this.unitOfWork.run(async (tx) => {
      await this.accounts.disable(tx, userId);
      const pseudonym = await this.audit.pseudonymFor(userId, tx);
      const row = await this.repository.insertErasure(tx, {
        userId,
        email,
        pseudonym,
        scheduledFor,
      });
      await this.audit.record(
        {
          eventType: 'account.erasure_requested',
          actorId: userId,
          subjectId: userId,
          data: { erasure_id: row.id },
        },
        tx,
      );
      return row;
    });
  }

  /** POST /account/restore: the owner's email and password, inside the grace period. */
  async restore(email: string, password: string): Promise<AccountRestoredDto> {
    const identity = await this.accounts.findByCredentials(email, password);
    if (!identity) throw new AccountException('invalid_credentials', 'Wrong email or password');
    return this.restoreVerified(identity.id);
  }

  /** Restores an account whose owner has proven who they are (password above; SSO after a fresh sign-in). */
  async restoreVerified(userId: string): Promise<AccountRestoredDto> {
    const restored = await this.unitOfWork.run(async (tx) => {
      if (!(await this.repository.cancelErasure(tx, userId))) return false;
      await this.accounts.enable(tx, userId);
      await this.audit.record({ eventType: 'account.restored', actorId: userId, subjectId: userId }, tx);
      return true;
    });
    if (!restored) {
      throw new AccountException(
        'erasure_not_pending',
        'This account is not waiting for erasure (or its erasure has begun)',
      );
    }
    await this.eachParticipant('restored', (p) => p.onRestored(userId));
    return { restored: true };
  }

  /** Runs the next due erasure (or `id` now); answers the erasure as it stands after, or null if none ran. */
  async runNext(id?: string): Promise<AccountErasure | null> {
    const erasure = await this.repository.claimErasure(id);
    if (!erasure) return null;
    await this.run(erasure);
    return this.repository.findErasure(erasure.id);
  }

  async list(query: {
    status?: string;
    page: number;
    limit: number;
  }): Promise<{ items: ErasureDto[]; total: number }> {
    const [rows, total] = await this.repository.pageErasures(query);
    return { items: rows.map(toErasureDto), total };
  }

  /** POST /admin/erasures/{id}/run: an erasure not completed nor canceled, run now whatever its schedule. */
  async runNow(id: string): Promise<ErasureDto> {
    const existing = await this.repository.findErasure(id);
    if (!existing) throw new AccountException('not_found', 'Erasure not found');
    if (existing.status === 'completed' || existing.status === 'canceled') return toErasureDto(existing);
    const after = await this.runNext(id);
    return toErasureDto(after ?? existing);
  }

  private async run(erasure: AccountErasure): Promise<void> {
    if (await this.reenabledMeanwhile(erasure)) return;
    const account = { userId: erasure.userId!, email: erasure.email!, pseudonym: erasure.pseudonym };
    const progress = { ...erasure.progress };
    for (const participant of this.registry.participants()) {
      if (progress[participant.name]) continue;
      try {
        await participant.erase(account);
      } catch (err) {
        const message = `${participant.name}: ${(err as Error).message}`.replaceAll(
          account.userId,
          '<account>',
        );
        this.logger.warn(`Erasure ${erasure.id} stopped at ${message}; retried later`);
        await this.repository.retryErasureLater(erasure.id, message, this.config.accountErasure.retryMs);
        return;
      }
      progress[participant.name] = Date.now();
      await this.repository.saveProgress(erasure.id, progress);
    }
    await this.repository.completeErasure(erasure.id);
    await this.audit.record({
      eventType: 'account.erased',
      subjectId: erasure.pseudonym,
      data: { erasure_id: erasure.id },
    });
    this.logger.log(`Erasure ${erasure.id} completed`);
  }

  /**
   * An account an admin enabled again during its grace period (PATCH
   * /admin/users/{id} disabled: false) is in use: its erasure is canceled
   * rather than run, as a restore would have. Only before anything was erased.
   */
  private async reenabledMeanwhile(erasure: AccountErasure): Promise<boolean> {
    if (Object.keys(erasure.progress).length > 0) return false;
    const identity = await this.accounts.identityOf(erasure.userId!);
    if (!identity || identity.disabled) return false;
    await this.repository.cancelClaimed(erasure.id);
    await this.audit.record({
      eventType: 'account.erasure_canceled',
      subjectId: identity.id,
      reason: 'the account was enabled again before its erasure',
      data: { erasure_id: erasure.id },
    });
    this.logger.log(`Erasure ${erasure.id} canceled: the account was enabled again`);
    return true;
  }

  /** The participants' reactions to a disable or a restore: best effort, each failure logged. */
  private async eachParticipant(
    what: string,
    act: (participant: ReturnType<AccountDataRegistry['participants']>[number]) => Promise<void>,
  ): Promise<void> {
    for (const participant of this.registry.participants()) {
      await act(participant).catch((err: Error) =>
        this.logger.warn(`Account ${what}: ${participant.name} failed: ${err.message}`),
      );
    }
  }
}

export function toErasureDto(row: AccountErasure): ErasureDto {
  return {
    id: row.id,
    status: row.status,
    user_id: row.userId,
    pseudonym: row.pseudonym,
    requested_at: row.requestedAt.getTime(),
    scheduled_for: row.scheduledFor.getTime(),
    progress: row.progress,
    attempts: row.attempts,
    last_error: row.lastError,
    next_attempt_at: row.nextAttemptAt?.getTime() ?? null,
    completed_at: row.completedAt?.getTime() ?? null,
  };
}
