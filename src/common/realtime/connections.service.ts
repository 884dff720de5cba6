import { Global, Injectable, Logger, Module, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io';
import { AppConfig } from '../../config/app-config.js';
import type { AuthUser } from '../auth/auth-user.js';
import type { ErrorCode } from '../errors/error-codes.js';
import { RedisService } from '../redis/redis.service.js';
import { UserPush } from './user-push.js';

/** Whose credentials ended: one session or one API key of an account, or (neither named) all of them. */
export interface RevokedPrincipal {
  userId: string;
  sessionId?: string;
  apiKeyId?: string;
}

/** What a client is told when its connection is cut because its credentials ended. */
export interface RevocationReason {
  code: ErrorCode;
  message: string;
}

/** One live connection (a Socket.IO socket or a plain WebSocket): whose it is, and how to cut it. */
interface Connection {
  user: AuthUser;
  cut(reason: RevocationReason): void;
}

/** A registered connection: `release` when it closes (a function of its own: it may be passed as a listener). */
export interface ConnectionHandle {
  release: () => void;
}

const CHANNEL = 'adiuva:realtime:revoked';

/** The Socket.IO event a socket gets just before it is disconnected because its credentials ended. */
export const REVOKED_EVENT = 'auth:revoked';

/**
 * Every live socket of this instance, by account, on every transport
 * (Socket.IO `/` and `/chat`, the plain WebSocket). It does two jobs:
 *
 * - caps the live connections of one account on this instance, so one
 *   credential cannot hold thousands of sockets (each costs memory and a
 *   share of every fan-out);
 * - cuts the connections of credentials that ended (a session revoked or
 *   signed out, an API key revoked, an account disabled) on every instance:
 *   the instance where it happened publishes on Redis and every instance cuts
 *   its own, so a revoked credential keeps no open connection anywhere. A
 *   socket is authenticated once, at its handshake; without this it would
 *   keep receiving pushes after its token stopped working over REST.
 *
 * Callers revoke after their transaction committed: a rolled-back revocation
 * must not cut anyone.
 */
@Injectable()
export class ConnectionsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Connections');
  private readonly byUser = new Map<string, Set<Connection>>();
  /** Tells this instance's own messages apart (it has already cut its connections). */
  private readonly instanceId = randomUUID();
  private subscriber: Redis | undefined;
  readonly maxPerAccount: number;

  constructor(
    private readonly redis: RedisService,
    config: AppConfig,
  ) {
    this.maxPerAccount = config.socketLimits.connectionsPerAccount;
  }

  onModuleInit(): void {
    if (!this.redis.client) return;
    this.subscriber = this.redis.client.duplicate({ maxRetriesPerRequest: null });
    this.subscriber.on('error', (err: Error) => this.logger.warn(`Redis subscriber error: ${err.message}`));
    this.subscriber.on('message', (_channel: string, message: string) => this.onMessage(message));
    this.subscriber
      .subscribe(CHANNEL)
      .catch((err: Error) =>
        this.logger.warn(`Revocations from other instances not received: ${err.message}`),
      );
  }

  onModuleDestroy(): void {
    this.subscriber?.disconnect();
  }

  /**
   * Counts a new connection of `user`; undefined when the account already
   * holds the most this instance allows (the caller refuses the connection).
   */
  register(user: AuthUser, cut: (reason: RevocationReason) => void): ConnectionHandle | undefined {
    let live = this.byUser.get(user.id);
    if (!live) this.byUser.set(user.id, (live = new Set()));
    if (live.size >= this.maxPerAccount) return undefined;
    const connection: Connection = { user, cut };
    live.add(connection);
    // Idempotent: the caller may release on more than one signal of the same close.
    return {
      release: () => {
        live.delete(connection);
        if (live.size === 0 && this.byUser.get(user.id) === live) this.byUser.delete(user.id);
      },
    };
  }

  /**
   * Socket.IO middleware, after the handshake's authentication: counts the
   * socket against its account's cap (refused with connect_error
   * `rate_limited` past it) and, should its credentials end, tells it why
   * (`auth:revoked {code, message}`) and disconnects it.
   */
  socketIo(): (socket: Socket, next: (err?: Error) => void) => void {
    return (socket, next) => {
      const user = (socket.data as { user?: AuthUser }).user;
      if (!user) return next();
      const handle = this.register(user, (reason) => {
        socket.emit(REVOKED_EVENT, reason);
        // This namespace only: a client multiplexes its namespaces over one connection, and each of
        // the principal's sockets is told why by its own registration before its connection goes.
        socket.disconnect();
        setImmediate(() => closeIfEmpty(socket));
      });
      if (!handle) {
        const message = this.tooManyMessage();
        return next(
          Object.assign(new Error(`rate_limited: ${message}`), { data: { code: 'rate_limited', message } }),
        );
      }
      // A client gone before the connection completed never fires 'disconnect': its transport's close does.
      // One listener for both, added with `on` (releasing twice is harmless): `once` wraps each in two
      // more objects that an idle socket would keep for its whole life.
      const release = handle.release;
      socket.on('disconnect', release);
      socket.conn.on('close', release);
      next();
    };
  }

  /** What a client refused past the cap is told. */
  tooManyMessage(): string {
    return (
      `At most ${this.maxPerAccount} live connections per account on one server ` +
      '(each Socket.IO namespace and each WebSocket counts one); close one first'
    );
  }

  /** Live connections of one account on this instance. */
  countFor(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  /**
   * Cuts every connection of `principal`, here at once and on the other
   * instances through Redis. Never throws: a Redis failure is logged (the
   * credential is refused anyway on its next use of a `chat` event or REST).
   */
  async revoke(principal: RevokedPrincipal, reason: RevocationReason): Promise<void> {
    this.cutLocal(principal, reason);
    if (!this.redis.client) return;
    const message = JSON.stringify({ from: this.instanceId, principal, reason });
    await this.redis.client
      .publish(CHANNEL, message)
      .then(() => undefined)
      .catch((err: Error) => this.logger.warn(`Revocation not sent to other instances: ${err.message}`));
  }

  private onMessage(message: string): void {
    try {
      const { from, principal, reason } = JSON.parse(message) as {
        from?: unknown;
        principal?: RevokedPrincipal;
        reason?: RevocationReason;
      };
      if (from === this.instanceId || typeof principal?.userId !== 'string' || !reason) return;
      this.cutLocal(principal, reason);
    } catch {
      this.logger.warn('Ignored a malformed revocation message');
    }
  }

  private cutLocal(principal: RevokedPrincipal, reason: RevocationReason): void {
    const { sessionId, apiKeyId } = principal;
    const matches = (c: Connection) =>
      sessionId ? c.user.sessionId === sessionId : apiKeyId ? c.user.apiKeyId === apiKeyId : true;
    let cut = 0;
    for (const connection of [...(this.byUser.get(principal.userId) ?? [])]) {
      if (!matches(connection)) continue;
      cut++;
      try {
        connection.cut(reason);
      } catch (err) {
        this.logger.warn(`A connection was not cut cleanly: ${(err as Error).message}`);
      }
    }
    if (cut > 0) this.logger.log(`Cut ${cut} connection(s) whose credentials ended (${reason.code})`);
  }
}

/** Global: the auth module revokes, the gateways and the WebSocket server register, modules push. */
@Global()
@Module({ providers: [ConnectionsService, UserPush], exports: [ConnectionsService, UserPush] })
export class RealtimeModule {}

/**
 * Closes a Socket.IO connection left with no namespace (its last socket's credentials ended): the
 * engine would otherwise keep it alive, pinging, with nothing on it. A connection that still
 * carries another principal's namespace stays.
 */
function closeIfEmpty(socket: Socket): void {
  const namespaces = (socket.client as unknown as { sockets: Map<string, unknown> }).sockets;
  if (namespaces.size === 0 && socket.conn.readyState === 'open') socket.conn.close();
}
