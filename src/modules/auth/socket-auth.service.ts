import { HttpException, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'socket.io';
import { AppException } from '../../common/errors/app.exception.js';
import { clientAddress } from '../../common/http/client-address.js';
import { API_KEY_PREFIX, type AuthUser } from './auth.types.js';
import { PrincipalService } from './principal.service.js';
import { AuthException } from './auth.errors.js';
import { CredentialsService } from './credentials.service.js';

/** What an authenticated socket carries in `socket.data`. */
export interface SocketPrincipal {
  user?: AuthUser;
  token?: string;
}

/** The same credential rules as the HTTP guard, for Socket.IO handshakes (`auth.token`). */
@Injectable()
export class SocketAuthService {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly principals: PrincipalService,
  ) {}

  /**
   * Socket.IO middleware: refuses the connection itself (connect_error on the
   * client) when `auth.token` does not verify; otherwise keeps the user and the
   * token on `socket.data` (the token lets a gateway check the session again later).
   * The connect_error's `data` says `{code, message}` (and `retry_after` for
   * `rate_limited`: too many failed attempts from the client's address).
   */
  handshake(): (socket: Socket, next: (err?: Error) => void) => void {
    return (socket, next) => {
      const raw = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      const token = typeof raw === 'string' ? raw : undefined;
      this.authenticateConnection(token, socket.request).then(
        (user) => {
          Object.assign(socket.data as SocketPrincipal, { user, token });
          next();
        },
        (err: Error) => next(connectError(err)),
      );
    };
  }

  /**
   * A connection's credentials (a handshake, a WebSocket upgrade), counted
   * against the failure limit of the client's address (TRUST_PROXY honoured):
   * 429 `rate_limited` past it, before any lookup.
   */
  authenticateConnection(token: string | undefined, req: IncomingMessage): Promise<AuthUser> {
    return this.credentials.forSocketToken(token, clientAddress(req), (t) => this.authenticate(t));
  }

  /** The 429 that refuses a connection before its credentials are looked up (see CredentialsService.socketRefusal). */
  refusal(token: string | undefined, req: IncomingMessage): AppException | undefined {
    return this.credentials.socketRefusal(token, clientAddress(req));
  }

  async authenticate(token: string | undefined): Promise<AuthUser> {
    if (!token) throw new AuthException('unauthenticated', 'missing auth.token');
    if (token.startsWith(API_KEY_PREFIX)) {
      const user = await this.principals.forApiKey(token);
      if (!user) throw new AuthException('unauthenticated', 'invalid or revoked API key');
      return user;
    }
    const verified = this.credentials.verifyAccessToken(token);
    if ('failure' in verified) throw new AuthException('unauthenticated', 'invalid or expired access token');
    const { payload } = verified;
    if (payload.typ !== 'access') throw new AuthException('unauthenticated', 'not an access token');
    const user = await this.principals.forAccessToken(payload.sub, payload.sid);
    if (!user) throw new AuthException('session_ended', 'the session has ended or the account is disabled');
    return user;
  }
}

/** A refused handshake as the client's connect_error: the message as before, the code and any retry time in `data`. */
function connectError(err: Error): Error {
  const limited = err instanceof AppException && err.appCode === 'rate_limited';
  const refused = new Error(limited ? `rate_limited: ${err.message}` : `unauthorized: ${err.message}`);
  (refused as Error & { data?: unknown }).data =
    err instanceof AppException
      ? { code: err.appCode, message: err.message, ...err.extra }
      : {
          code: err instanceof HttpException ? 'unauthenticated' : 'internal_error',
          message: 'authentication failed',
        };
  return refused;
}
