import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { returningRows } from '../../database/sql.js';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { RefreshToken } from './entities/refresh-token.entity.js';
import { Session, type SignInMethod } from './entities/session.entity.js';

/** A session as the refresh step sees it, locked. */
export interface RefreshableSession {
  id: string;
  userId: string;
  /** Revoked, or its user disabled. */
  ended: boolean;
  /** Unused for longer than the refresh-token lifetime. */
  idleExpired: boolean;
}

/** Sessions (one per device login) and their rotating refresh tokens. */
@Injectable()
export class SessionsRepository {
  constructor(@InjectRepository(Session) private readonly sessions: Repository<Session>) {}

  async open(tx: Tx, userId: string, deviceName: string | null, method: SignInMethod): Promise<Session> {
    const manager = managerOf(tx);
    const session = manager.create(Session, {
      userId,
      deviceName,
      signInMethod: method,
      lastUsedAt: new Date(),
      revokedAt: null,
      revokedReason: null,
    });
    await manager.insert(Session, session);
    return session;
  }

  async addRefreshToken(tx: Tx, sessionId: string, tokenHash: string): Promise<void> {
    const manager = managerOf(tx);
    await manager.insert(RefreshToken, manager.create(RefreshToken, { sessionId, tokenHash, usedAt: null }));
  }

  /**
   * Marks an unused refresh token used; answers its session, or null when the
   * token is unknown or already used. Of concurrent uses exactly one wins.
   */
  async useRefreshToken(tx: Tx, tokenHash: string): Promise<string | null> {
    const manager = managerOf(tx);
    const [row] = await returningRows<{ session_id: string }>(
      manager,
      'UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL RETURNING session_id',
      [tokenHash],
    );
    return row?.session_id ?? null;
  }

  /** The session and user of a refresh token, used or not; null when the token is unknown. */
  async ownerOfToken(tokenHash: string, tx?: Tx): Promise<{ sessionId: string; userId: string } | null> {
    const manager = managerOf(tx, this.sessions.manager);
    const [row] = await manager.query<Array<{ session_id: string; user_id: string }>>(
      `SELECT t.session_id, s.user_id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
        WHERE t.token_hash = $1`,
      [tokenHash],
    );
    return row ? { sessionId: row.session_id, userId: row.user_id } : null;
  }

  /** Locks the session for a refresh and says whether it may still be used. */
  async lockForRefresh(tx: Tx, sessionId: string, idleDays: number): Promise<RefreshableSession | null> {
    const manager = managerOf(tx);
    const [row] = await manager.query<
      Array<{ id: string; user_id: string; ended: boolean; idle_expired: boolean }>
    >(
      `SELECT s.id, s.user_id, (s.revoked_at IS NOT NULL OR u.disabled_at IS NOT NULL) AS ended,
              s.last_used_at < now() - make_interval(days => $2) AS idle_expired
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 FOR UPDATE OF s`,
      [sessionId, idleDays],
    );
    return row ? { id: row.id, userId: row.user_id, ended: row.ended, idleExpired: row.idle_expired } : null;
  }

  /**
   * Whether the user's live session was opened by a provider's sign-in (SSO,
   * GitHub) at most `withinSeconds` ago, by the database's clock.
   */
  async openedByProviderWithin(userId: string, sessionId: string, withinSeconds: number): Promise<boolean> {
    const rows = await this.sessions.query<unknown[]>(
      `SELECT 1 FROM sessions
        WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND sign_in_method IN ('sso', 'github')
          AND created_at >= now() - make_interval(secs => $3)`,
      [sessionId, userId, withinSeconds],
    );
    return rows.length > 0;
  }

  async touch(tx: Tx, sessionId: string): Promise<void> {
    const manager = managerOf(tx);
    await manager.update(Session, { id: sessionId }, { lastUsedAt: () => 'now()' });
  }

  /** The user's sessions that are neither revoked nor idle past `idleDays`, most recently used first. */
  async listActiveForOwner(userId: string, idleDays: number): Promise<Session[]> {
    return this.sessions
      .createQueryBuilder('session')
      .where('session.user_id = :userId AND session.revoked_at IS NULL', { userId })
      .andWhere('session.last_used_at >= now() - make_interval(days => :idleDays)', { idleDays })
      .orderBy('session.last_used_at', 'DESC')
      .getMany();
  }

  /** Revokes one session (of `userId` when given); answers whether it was live. */
  async revoke(tx: Tx, sessionId: string, reason: string, userId?: string): Promise<boolean> {
    const manager = managerOf(tx);
    const rows = await returningRows<{ id: string }>(
      manager,
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $2
        WHERE id = $1 AND ($3::uuid IS NULL OR user_id = $3) AND revoked_at IS NULL RETURNING id`,
      [sessionId, reason, userId ?? null],
    );
    return rows.length > 0;
  }

  async revokeAllOfUser(tx: Tx, userId: string, reason: string): Promise<void> {
    const manager = managerOf(tx);
    await manager.query(
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL`,
      [userId, reason],
    );
  }
}
