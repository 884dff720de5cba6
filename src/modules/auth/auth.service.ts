import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { RateLimitStore } from '../../common/rate-limit/rate-limit.store.js';
import { AppConfig } from '../../config/app-config.js';
import { isUniqueViolation, returningRows } from '../../database/sql.js';
import { AuditService } from '../audit/index.js';
import type { AuthUser } from './auth.types.js';
import type { AuthTokensDto, LoginDto, RegisterDto, SessionDto } from './dto/auth.dto.js';
import { RefreshToken } from './entities/refresh-token.entity.js';
import { Session } from './entities/session.entity.js';
import { User } from './entities/user.entity.js';
import { PasswordService } from './password.service.js';
import { sha256Hex, TokenService } from './token.service.js';
import { AuthException } from './auth.errors.js';

const INVALID_LOGIN = 'Invalid email or password';

/** Emails are unique case-insensitively: stored and compared trimmed and lower-cased. */
export const normaliseEmail = (email: string): string => email.trim().toLowerCase();
/** A burst: this many failed logins for one account within the window is written to the audit log. */
const FAILURE_BURST = 5;
const FAILURE_WINDOW_MS = 15 * 60_000;

type RefreshOutcome =
  { kind: 'ok'; tokens: AuthTokensDto } | { kind: 'invalid' | 'reused' | 'expired' | 'revoked' };

/** Registration, login, refresh-token rotation with reuse detection, logout and sessions. */
@Injectable()
export class AuthService {
  constructor(
    private readonly ds: DataSource,
    private readonly config: AppConfig,
    private readonly passwords: PasswordService,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    private readonly counters: RateLimitStore,
  ) {}

  async register(dto: RegisterDto): Promise<AuthTokensDto> {
    const email = normaliseEmail(dto.email);
    const passwordHash = await this.passwords.hash(dto.password);
    try {
      return await this.ds.transaction(async (m) => {
        const user = m.create(User, {
          email,
          passwordHash,
          role: this.config.adminEmails.includes(email) ? 'admin' : 'user',
          tierOverride: null,
          disabledAt: null,
        });
        await m.insert(User, user);
        await this.audit.record({ eventType: 'auth.register', actorId: user.id, subjectId: user.id }, m);
        return this.openSession(m, user.id, dto.device_name ?? null);
      });
    } catch (err) {
      if (isUniqueViolation(err))
        throw new AuthException('duplicate', 'An account with this email already exists');
      throw err;
    }
  }

  async login(dto: LoginDto): Promise<AuthTokensDto> {
    const email = normaliseEmail(dto.email);
    const user = await this.ds.getRepository(User).findOne({ where: { email } });
    // Unknown email still costs one argon2 verification: same answer, about the same time.
    const ok = await this.passwords.verify(user?.passwordHash ?? null, dto.password);
    if (!ok || !user || user.disabledAt) {
      await this.countFailure(email, user?.id ?? null);
      throw new AuthException('invalid_credentials', INVALID_LOGIN);
    }
    return this.ds.transaction((m) => this.openSession(m, user.id, dto.device_name ?? null));
  }

  /**
   * Rotates a refresh token. Exactly one of several concurrent uses of a token
   * wins (the conditional UPDATE); any other use of a rotated token is reuse,
   * and revokes the whole session, including the newest token.
   */
  async refresh(token: string): Promise<AuthTokensDto> {
    const hash = sha256Hex(token);
    const outcome = await this.ds.transaction(async (m): Promise<RefreshOutcome> => {
      const [rotated] = await returningRows<{ session_id: string }>(
        m,
        'UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL RETURNING session_id',
        [hash],
      );
      if (!rotated) {
        const [known] = await m.query<Array<{ session_id: string; user_id: string }>>(
          `SELECT t.session_id, s.user_id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
            WHERE t.token_hash = $1`,
          [hash],
        );
        if (!known) return { kind: 'invalid' };
        const revoked = await this.revokeSessions(m, 'id = $1', [known.session_id], 'reuse_detected');
        if (revoked > 0) {
          await this.audit.record(
            {
              eventType: 'auth.refresh_token_reuse',
              actorId: known.user_id,
              subjectId: known.session_id,
              reason: 'a rotated refresh token was presented again; session revoked',
            },
            m,
          );
        }
        return { kind: 'reused' };
      }
      const [session] = await m.query<
        Array<{
          id: string;
          user_id: string;
          revoked_at: Date | null;
          idle_expired: boolean;
          disabled_at: Date | null;
        }>
      >(
        `SELECT s.id, s.user_id, s.revoked_at, u.disabled_at,
                s.last_used_at < now() - make_interval(days => $2) AS idle_expired
           FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 FOR UPDATE OF s`,
        [rotated.session_id, this.config.jwt.refreshTokenDays],
      );
      if (!session || session.revoked_at || session.disabled_at) return { kind: 'revoked' };
      if (session.idle_expired) {
        await this.revokeSessions(m, 'id = $1', [session.id], 'expired');
        return { kind: 'expired' };
      }
      await m.query('UPDATE sessions SET last_used_at = now() WHERE id = $1', [session.id]);
      return { kind: 'ok', tokens: await this.issueRefresh(m, session.user_id, session.id) };
    });
    switch (outcome.kind) {
      case 'ok':
        return outcome.tokens;
      case 'invalid':
        throw new AuthException('unauthenticated', 'Invalid refresh token');
      case 'reused':
        throw new AuthException(
          'session_ended',
          'This refresh token was already used. The session has been revoked for safety: log in again.',
        );
      case 'expired':
        throw new AuthException('session_ended', 'The session expired after inactivity: log in again');
      case 'revoked':
        throw new AuthException('session_ended', 'The session has been revoked: log in again');
    }
  }

  /** Ends the session of a refresh token. Idempotent: an unknown token changes nothing. */
  async logout(token: string): Promise<void> {
    await this.ds.transaction(async (m) => {
      const [row] = await m.query<Array<{ session_id: string }>>(
        'SELECT session_id FROM refresh_tokens WHERE token_hash = $1',
        [sha256Hex(token)],
      );
      if (row) await this.revokeSessions(m, 'id = $1', [row.session_id], 'logout');
    });
  }

  async listSessions(user: AuthUser): Promise<SessionDto[]> {
    const rows = await this.ds.query<
      Array<{ id: string; device_name: string | null; created_at: Date; last_used_at: Date }>
    >(
      `SELECT id, device_name, created_at, last_used_at FROM sessions
        WHERE user_id = $1 AND revoked_at IS NULL AND last_used_at >= now() - make_interval(days => $2)
        ORDER BY last_used_at DESC`,
      [user.id, this.config.jwt.refreshTokenDays],
    );
    return rows.map((r) => ({
      id: r.id,
      device_name: r.device_name,
      created_at: r.created_at.getTime(),
      last_active_at: r.last_used_at.getTime(),
      current: r.id === user.sessionId,
    }));
  }

  async deleteSession(user: AuthUser, sessionId: string): Promise<void> {
    const revoked = await this.revokeSessions(
      this.ds.manager,
      'id = $1 AND user_id = $2',
      [sessionId, user.id],
      'deleted',
    );
    if (revoked === 0) throw new AuthException('not_found', 'Session not found');
  }

  /** Revokes every session and API key of a user (used when an account is disabled). */
  async revokeEverything(m: EntityManager, userId: string, reason: string): Promise<void> {
    await this.revokeSessions(m, 'user_id = $1', [userId], reason);
    await m.query('UPDATE api_keys SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [
      userId,
    ]);
  }

  private async revokeSessions(
    m: EntityManager,
    where: string,
    params: unknown[],
    reason: string,
  ): Promise<number> {
    const rows = await returningRows<{ id: string }>(
      m,
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $${params.length + 1}
        WHERE ${where} AND revoked_at IS NULL RETURNING id`,
      [...params, reason],
    );
    return rows.length;
  }

  private async openSession(
    m: EntityManager,
    userId: string,
    deviceName: string | null,
  ): Promise<AuthTokensDto> {
    const session = m.create(Session, {
      userId,
      deviceName,
      lastUsedAt: new Date(),
      revokedAt: null,
      revokedReason: null,
    });
    await m.insert(Session, session);
    return this.issueRefresh(m, userId, session.id);
  }

  private async issueRefresh(m: EntityManager, userId: string, sessionId: string): Promise<AuthTokensDto> {
    const refresh = this.tokens.newRefreshToken();
    await m.insert(
      RefreshToken,
      m.create(RefreshToken, { sessionId, tokenHash: refresh.hash, usedAt: null }),
    );
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
