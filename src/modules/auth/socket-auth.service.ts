import { HttpException, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'socket.io';
import { AppException } from '../../common/errors/app.exception.js';
import { clientAddress } from '../../common/http/client-address.js';
import type { AuthUser } from './auth.types.js';
import { AuthException } from './auth.errors.js';
import { CredentialsService } from './credentials.service.js';
import { AuthPassport } from './strategies/auth-passport.js';
import type { Refusal } from './strategies/refusal.js';

/** What an authenticated socket carries in `socket.data`. */
export interface SocketPrincipal {
  user?: AuthUser;
  token?: string;
}

/** The same credential rules and strategies as the HTTP guard, for Socket.IO handshakes (`auth.token`) and WebSocket upgrades. */
@Injectable()
export class SocketAuthService {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly passport: AuthPassport,
  ) {}

  /**
   * Socket.IO middleware: refuses the connection itself (connect_error on the
   * client) when `auth.token` does not verify; otherwise keeps the user and the
   * token on `socket.data` (the token lets a gateway check the session again later).
   * The connect_error's `data` says `{code, message}` (and `retry_after` for
   * `rate_limited`: too many failed attempts from the client's address).
   * `keepToken: false` (a namespace that never checks again, only pushes) keeps
   * the user alone and drops the token from `socket.handshake.auth` too: a few
   * hundred bytes an idle socket would hold for nothing.
   */
  handshake({ keepToken = true } = {}): (socket: Socket, next: (err?: Error) => void) => void {
    return (socket, next) => {
      const auth = socket.handshake.auth as { token?: unknown } | undefined;
      const token = typeof auth?.token === 'string' ? auth.token : undefined;
      this.authenticateConnection(token, socket.request).then(
        (user) => {
          if (!keepToken && auth) delete auth.token;
          Object.assign(socket.data as SocketPrincipal, keepToken ? { user, token } : { user });
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

  /**
   * A socket's token (an access token or an API key) through the same
   * strategies as the HTTP guard, with the socket's own wording (a connect_error
   * or a close reason).
   */
  async authenticate(token: string | undefined): Promise<AuthUser> {
    if (!token) throw new AuthException('unauthenticated', 'missing auth.token');
    const outcome = await this.passport.authenticate(asBearerRequest(token));
    if ('user' in outcome) return outcome.user;
    throw socketRefusal(outcome.refusal);
  }
}

/** The strategies read headers: a socket's token as the `Authorization: Bearer` it stands for. */
function asBearerRequest(token: string): IncomingMessage {
  return { headers: { authorization: `Bearer ${token}` } } as IncomingMessage;
}

/** The 401 a socket gets for each refusal of the strategies. */
function socketRefusal(refusal: Refusal): AuthException {
  switch (refusal) {
    case 'api_key_too_long':
    case 'api_key_unknown':
      return new AuthException('unauthenticated', 'invalid or revoked API key');
    case 'not_access_token':
      return new AuthException('unauthenticated', 'not an access token');
    case 'session_ended':
      return new AuthException('session_ended', 'the session has ended or the account is disabled');
    case 'expired':
    case 'invalid':
      return new AuthException('unauthenticated', 'invalid or expired access token');
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
