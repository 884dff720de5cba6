import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import passport from 'passport';
import { Strategy } from 'passport-custom';
import type { AuthUser } from '../auth.types.js';
import { PrincipalService } from '../principal.service.js';
import { apiKeyFrom } from './headers.js';
import type { Refusal } from './refusal.js';

export const API_KEY_STRATEGY = 'api-key';

/** An API key is never longer; a longer one is refused before any hashing or lookup. */
const MAX_API_KEY_LENGTH = 200;

/**
 * API keys (`X-API-Key`, or `Authorization: Bearer adv_…`), through
 * passport-custom: the key's owner (key active, owner enabled) read fresh from
 * the database on every request. A request without a key is not this
 * strategy's (it fails without a reason).
 */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, API_KEY_STRATEGY) {
  constructor(private readonly principals: PrincipalService) {
    super();
  }

  /** See AccessTokenStrategy.getPassportInstance: each app runs its strategies on its own instance. */
  getPassportInstance(): passport.PassportStatic {
    return new passport.Passport() as passport.PassportStatic;
  }

  async validate(req: Request): Promise<AuthUser | [false, Refusal] | null> {
    const key = apiKeyFrom(req.headers);
    if (!key) return null;
    if (key.length > MAX_API_KEY_LENGTH) return [false, 'api_key_too_long'];
    const user = await this.principals.forApiKey(key);
    return user ?? [false, 'api_key_unknown'];
  }
}
