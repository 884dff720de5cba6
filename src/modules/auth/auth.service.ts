import { Injectable } from '@nestjs/common';
import { normaliseEmail } from '../../common/input/email.js';
import { RateLimitStore } from '../../common/rate-limit/rate-limit.store.js';
import { ConnectionsService } from '../../common/realtime/connections.service.js';
import { AppConfig } from '../../config/app-config.js';
import { isUniqueViolation } from '../../database/sql.js';
import { type Tx, UnitOfWork } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import { AccountsRepository } from './accounts.repository.js';
import type { AuthUser } from './auth.types.js';
import {
  type AuthTokensDto,
  type LoginDto,
  mapSession,
  type RegisterDto,
  type SessionDto,
} from './dto/auth.dto.js';
import { PasswordService } from './password.service.js';
import { SessionsRepository } from './sessions.repository.js';
import { sha256Hex, TokenService } from './token.service.js';
import { AuthException } from './auth.errors.js';
import { SignInPolicies } from './sign-in-policy.js';

const INVALID_LOGIN = 'Invalid email or password';

/** A burst: this many failed logins for one account within the window is written to the audit log. */
const FAILURE_BURST = 5;
const FAILURE_WINDOW_MS = 15 * 60_000;

/** A session a refresh ended (reuse, idle expiry): its sockets are cut once the transaction commits. */
interface EndedSession {
  userId: string;
  sessionId: string;
}

type RefreshOutcome =
  | { kind: 'ok'; tokens: AuthTokensDto }
  | { kind: 'invalid' | 'revoked' }
  | { kind: 'reused' | 'expired'; ended?: EndedSession };

/** What a socket of a session that ended is told before it is disconnected. */
const SESSION_ENDED = {
  code: 'session_ended',
  message: 'This session was signed out or revoked: sign in again',
} as const;

/** Registration, login, refresh-token rotation with reuse detection, logout and sessions. */
@Injectable()
export class AuthService {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly sessions: SessionsRepository,
    private readonly config: AppConfig,
    private readonly passwords: PasswordService,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    private readonly counters: RateLimitStore,
    private readonly connections: ConnectionsService,
    private readonly unitOfWork: UnitOfWork,
    private readonly policies: SignInPolicies,
  ) {}

  async register(dto: RegisterDto): Promise<AuthTokensDto> {
    const email = normaliseEmail(dto.email);
    const passwordHash = await this.passwords.hash(dto.password);
    try {
      return await this.unitOfWork.run(async (tx) => {
        const user = await this.accounts.insert(tx, {
          email,
          passwordHash,
          role: this.config.adminEmails.includes(email) ? 'admin' : 'user',
          tierOverride: null,
          disabledAt: null,
        });
        await this.audit.record({ eventType: 'auth.register', actorId: user.id, subjectId: user.id }, tx);
        return this.openSession(tx, user.id, dto.device_name ?? null);
      });
    } catch (err) {
      if (isUniqueViolation(err))
        throw new AuthException('duplicate', 'An account with this email already exists');
      throw err;
    }
  }

  async login(dto: LoginDto): Promise<AuthTokensDto> {
    const email = normaliseEmail(dto.email);
    // A rule of the email's domain, said before any password is tried: it tells nothing about the account.
    await this.policies.assertPasswordAllowed(email, 'password sign-in');
    const user = await this.accounts.findByEmail(email);
    // Unknown email still costs one argon2 verification: same answer, about the same time.
    const ok = await this.passwords.verify(user?.passwordHash ?? null, dto.password);
    if (!ok || !user || user.disabledAt) {
      await this.countFailure(email, user?.id ?? null);
      throw new AuthException('invalid_credentials', INVALID_LOGIN);
    }
    return this.unitOfWork.run((tx) => this.openSession(tx, user.id, dto.device_name ?? null));
  }

  /**
   * Rotates a refresh token. Exactly one of several concurrent uses of a token
   * wins (the conditional UPDATE); any other use of a rotated token is reuse,
   * and revokes the whole session, including the newest token.
   */
  async refresh(token: string): Promise<AuthTokensDto> {
    const hash = sha256Hex(token);
    const outcome = await this.unitOfWork.run(async (tx): Promise<RefreshOutcome> => {
      const sessionId = await this.sessions.useRefreshToken(tx, hash);
      if (!sessionId) return this.refusePresentedAgain(tx, hash);
      return this.rotate(tx, sessionId);
    });
    if (outcome.kind === 'ok') return outcome.tokens;
    if ('ended' in outcome && outcome.ended) await this.connections.revoke(outcome.ended, SESSION_ENDED);
    throw refreshRefusal(outcome.kind);
  }

  /** Ends the session of a refresh token. Idempotent: an unknown token changes nothing. */
  async logout(token: string): Promise<void> {
    const owner = await this.unitOfWork.run(async (tx) => {
      const found = await this.sessions.ownerOfToken(sha256Hex(token), tx);
      if (found) await this.sessions.revoke(tx, found.sessionId, 'logout');
      return found;
    });
    if (owner) await this.connections.revoke(owner, SESSION_ENDED);
  }

  async listSessions(user: AuthUser): Promise<SessionDto[]> {
    const sessions = await this.sessions.listActiveForOwner(user.id, this.config.jwt.refreshTokenDays);
    return sessions.map((session) => mapSession(session, user.sessionId));
  }

  async deleteSession(user: AuthUser, sessionId: string): Promise<void> {
    const revoked = await this.unitOfWork.run((tx) =>
      this.sessions.revoke(tx, sessionId, 'deleted', user.id),
    );
    if (!revoked) throw new AuthException('not_found', 'Session not found');
    await this.connections.revoke({ userId: user.id, sessionId }, SESSION_ENDED);
  }

  /** An unknown token, or a rotated one presented again: reuse revokes the whole session. */
  private async refusePresentedAgain(tx: Tx, hash: string): Promise<RefreshOutcome> {
    const owner = await this.sessions.ownerOfToken(hash, tx);
    if (!owner) return { kind: 'invalid' };
    if (await this.sessions.revoke(tx, owner.sessionId, 'reuse_detected')) {
      await this.audit.record(
        {
          eventType: 'auth.refresh_token_reuse',
          actorId: owner.userId,
          subjectId: owner.sessionId,
          reason: 'a rotated refresh token was presented again; session revoked',
        },
        tx,
      );
      return { kind: 'reused', ended: owner };
    }
    return { kind: 'reused' };
  }

  /** Issues the next refresh token of a live session (an idle one expires instead). */
  private async rotate(tx: Tx, sessionId: string): Promise<RefreshOutcome> {
    const session = await this.sessions.lockForRefresh(tx, sessionId, this.config.jwt.refreshTokenDays);
    if (!session || session.ended) return { kind: 'revoked' };
    if (session.idleExpired) {
      await this.sessions.revoke(tx, session.id, 'expired');
      return { kind: 'expired', ended: { userId: session.userId, sessionId: session.id } };
    }
    await this.sessions.touch(tx, session.id);
    return { kind: 'ok', tokens: await this.issueRefresh(tx, session.userId, session.id) };
  }

  private async openSession(tx: Tx, userId: string, deviceName: string | null): Promise<AuthTokensDto> {
    const session = await this.sessions.open(tx, userId, deviceName, 'password');
    return this.issueRefresh(tx, userId, session.id);
  }

  private async issueRefresh(tx: Tx, userId: string, sessionId: string): Promise<AuthTokensDto> {
    const refresh = this.tokens.newRefreshToken();
    await this.sessions.addRefreshToken(tx, sessionId, refresh.hash);
    return this.tokens.authTokens(userId, sessionId, refresh.token);
  }

  /** Counts failed logins per account (shared across instances with Redis); audits a burst once. */
  private async countFailure(email: string, userId: string | null): Promise<void> {
    const key = `login-failures:${sha256Hex(email)}`;
    const { count } = await this.counters.hit(key, FAILURE_WINDOW_MS);
    if (count === FAILURE_BURST) {
      await this.audit.record({
        eventType: 'auth.login_failure_burst',
        subjectId: userId,
        reason: `${FAILURE_BURST} failed logins within ${FAILURE_WINDOW_MS / 60_000} minutes`,
        data: { account_known: userId !== null, email_sha256: sha256Hex(email).slice(0, 16) },
      });
    }
  }
}

/** The error a refused refresh answers: 401, saying why the client must log in again. */
function refreshRefusal(kind: Exclude<RefreshOutcome['kind'], 'ok'>): AuthException {
  switch (kind) {
    case 'invalid':
      return new AuthException('unauthenticated', 'Invalid refresh token');
    case 'reused':
      return new AuthException(
        'session_ended',
        'This refresh token was already used. The session has been revoked for safety: log in again.',
      );
    case 'expired':
      return new AuthException('session_ended', 'The session expired after inactivity: log in again');
    case 'revoked':
      return new AuthException('session_ended', 'The session has been revoked: log in again');
  }
}
