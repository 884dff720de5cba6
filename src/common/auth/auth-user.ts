import type { Tier } from '../tiers/tiers.js';

export type Role = 'user' | 'admin';

/** The authenticated principal of a request (`@CurrentUser()`), resolved from the database. */
export interface AuthUser {
  id: string;
  email: string;
  role: Role;
  /** Effective tier, read from the database on this request. */
  tier: Tier;
  via: 'jwt' | 'api_key';
  /** Session of the access token (JWT only). */
  sessionId?: string;
  /** API key used (API key only). */
  apiKeyId?: string;
}
