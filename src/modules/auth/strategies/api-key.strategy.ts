import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-custom';
import { API_KEY_PREFIX, type AuthUser } from '../auth.types.js';
import { PrincipalService } from '../principal.service.js';
import { AuthException } from '../auth.errors.js';

/** Reads an API key from `X-API-Key` or from `Authorization: Bearer adv_…`. */
export function apiKeyFrom(req: Request): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ') && auth.slice(7).startsWith(API_KEY_PREFIX)) return auth.slice(7);
  return undefined;
}

@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, 'api-key') {
  constructor(private readonly principals: PrincipalService) {
    super();
  }

  async validate(req: Request): Promise<AuthUser | false> {
    const key = apiKeyFrom(req);
    if (!key) return false;
    if (key.length > 200) throw new AuthException('unauthenticated', 'Invalid API key');
    const user = await this.principals.forApiKey(key);
    if (!user) throw new AuthException('unauthenticated', 'Invalid or revoked API key');
    return user;
  }
}
