import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { AppConfig } from '../../config/app-config.js';
import {
  type AccessTokenPayload,
  API_KEY_PREFIX,
  type AuthUser,
  JWT_AUDIENCE,
  JWT_ISSUER,
} from './auth.types.js';
import { PrincipalService } from './principal.service.js';
import { AuthException } from './auth.errors.js';

/** The same credential rules as the HTTP guard, for Socket.IO handshakes (`auth.token`). */
@Injectable()
export class SocketAuthService {
  private readonly key;

  constructor(
    private readonly jwt: JwtService,
    private readonly principals: PrincipalService,
    config: AppConfig,
  ) {
    this.key = createSecretKey(Buffer.from(config.jwt.secret, 'utf8'));
  }

  async authenticate(token: string | undefined): Promise<AuthUser> {
    if (!token) throw new AuthException('unauthenticated', 'missing auth.token');
    if (token.startsWith(API_KEY_PREFIX)) {
      const user = await this.principals.forApiKey(token);
      if (!user) throw new AuthException('unauthenticated', 'invalid or revoked API key');
      return user;
    }
    let payload: AccessTokenPayload;
    try {
      payload = this.jwt.verify<AccessTokenPayload>(token, {
        secret: this.key as unknown as string,
        algorithms: ['HS256'],
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
      });
    } catch {
      throw new AuthException('unauthenticated', 'invalid or expired access token');
    }
    if (payload.typ !== 'access') throw new AuthException('unauthenticated', 'not an access token');
    const user = await this.principals.forAccessToken(payload.sub, payload.sid);
    if (!user) throw new AuthException('session_ended', 'the session has ended or the account is disabled');
    return user;
  }
}
