import { Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';
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
   */
  handshake(): (socket: Socket, next: (err?: Error) => void) => void {
    return (socket, next) => {
      const raw = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      const token = typeof raw === 'string' ? raw : undefined;
      this.authenticate(token).then(
        (user) => {
          Object.assign(socket.data as SocketPrincipal, { user, token });
          next();
        },
        (err: Error) => next(new Error(`unauthorized: ${err.message}`)),
      );
    };
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
