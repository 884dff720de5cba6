import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createHash, randomBytes } from 'node:crypto';
import { AppConfig } from '../../config/app-config.js';
import { type AccessTokenPayload, JWT_AUDIENCE, JWT_ISSUER } from './auth.types.js';
import type { AuthTokensDto } from './dto/auth.dto.js';

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

/** Access JWTs (HS256, iss/aud/typ) and opaque refresh tokens (stored as SHA-256). */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
  ) {}

  newRefreshToken(): { token: string; hash: string } {
    const token = randomBytes(32).toString('base64url');
    return { token, hash: sha256Hex(token) };
  }

  authTokens(userId: string, sessionId: string, refreshToken: string): AuthTokensDto {
    const expiresInSeconds = this.config.jwt.accessTokenMinutes * 60;
    const payload: AccessTokenPayload = { sub: userId, sid: sessionId, typ: 'access' };
    const access = this.jwt.sign(payload, {
      algorithm: 'HS256',
      secret: this.config.jwt.secret,
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      expiresIn: expiresInSeconds,
    });
    return {
      access_token: access,
      refresh_token: refreshToken,
      expires_at: Date.now() + expiresInSeconds * 1000,
      token_type: 'bearer',
    };
  }
}
