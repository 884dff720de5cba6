import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { createSecretKey } from 'node:crypto';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '../../../config/app-config.js';
import { type AccessTokenPayload, type AuthUser, JWT_AUDIENCE, JWT_ISSUER } from '../auth.types.js';
import { PrincipalService } from '../principal.service.js';
import { AuthException } from '../auth.errors.js';

/** Access tokens: HS256 only (no `none`, no RS/ES confusion), our issuer and audience, typ=access. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AppConfig,
    private readonly principals: PrincipalService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject, not the string: given a string, jsonwebtoken first tries (and fails)
      // to parse it as a public key on every verification, which costs more than the rest.
      secretOrKey: createSecretKey(Buffer.from(config.jwt.secret, 'utf8')) as unknown as string,
      algorithms: ['HS256'],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      ignoreExpiration: false,
    });
  }

  async validate(payload: AccessTokenPayload): Promise<AuthUser> {
    if (payload.typ !== 'access' || typeof payload.sub !== 'string' || typeof payload.sid !== 'string') {
      throw new AuthException('unauthenticated', 'Not an access token');
    }
    const user = await this.principals.forAccessToken(payload.sub, payload.sid);
    if (!user) throw new AuthException('session_ended', 'The session has ended or the account is disabled');
    return user;
  }
}
