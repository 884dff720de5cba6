import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { Tier } from '../../src/common/tiers/tiers.js';
import { AuthService } from '../../src/modules/auth/auth.service.js';
import type { AuthTokensDto } from '../../src/modules/auth/dto/auth.dto.js';
import type { TestApp } from './test-app.js';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  tokens: AuthTokensDto;
  /** `Authorization: Bearer <access token>` */
  auth: { Authorization: string };
}

export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/**
 * A registered account, made through the real AuthService (the same code as
 * POST /auth/register, without spending the sign-in rate limit), with the tier
 * and role set the way an admin would.
 */
export async function newUser(
  t: TestApp,
  opts: { tier?: Tier; role?: 'user' | 'admin'; email?: string; password?: string; device?: string } = {},
): Promise<TestUser> {
  const email = opts.email ?? `user-${randomUUID().slice(0, 8)}@example.com`;
  const password = opts.password ?? 'correct horse battery staple';
  const tokens = await t.app.get(AuthService).register({ email, password, device_name: opts.device });
  const id = String(jwtPayload(tokens.access_token).sub);
  if (opts.tier || opts.role) {
    await t.app
      .get(DataSource)
      .query(
        'UPDATE users SET tier_override = COALESCE($2, tier_override), role = COALESCE($3, role) WHERE id = $1',
        [id, opts.tier ?? null, opts.role ?? null],
      );
  }
  return { id, email, password, tokens, auth: { Authorization: `Bearer ${tokens.access_token}` } };
}
