import { jest } from '@jest/globals';
import { JwtService } from '@nestjs/jwt';
import type { IncomingMessage } from 'node:http';
import { Strategy } from 'passport-jwt';
import type { AppConfig } from '../../../config/app-config.js';
import { type AuthUser, JWT_AUDIENCE, JWT_ISSUER } from '../auth.types.js';
import type { PrincipalService } from '../principal.service.js';
import { AccessTokenStrategy } from './access-token.strategy.js';
import { ApiKeyStrategy } from './api-key.strategy.js';
import { AuthPassport } from './auth-passport.js';

const SECRET = 'a-test-secret-of-at-least-32-characters';
const jwt = new JwtService();
const config = { jwt: { secret: SECRET } } as AppConfig;
const user: AuthUser = { id: 'user-1', email: 'a@example.com', role: 'user', tier: 'free', via: 'jwt' };

function token(claims: Record<string, unknown>, expiresIn = 60, secret = SECRET): string {
  return jwt.sign(claims, {
    secret,
    algorithm: 'HS256',
    expiresIn,
    issuer: JWT_ISSUER,
    audience: JWT_AUDIENCE,
  });
}

function bearer(given: string): IncomingMessage {
  return { headers: { authorization: `Bearer ${given}` } } as IncomingMessage;
}

const access = { sub: 'user-1', sid: 'session-1', typ: 'access' };

/** The strategies through a real passport, over a principal lookup that answers `found`. */
function setUp(found: AuthUser | null = user) {
  const forAccessToken = jest.fn((_user: string, _session: string) => Promise.resolve(found));
  const principals = {
    forAccessToken,
    forApiKey: () => Promise.resolve(null),
  } as unknown as PrincipalService;
  const strategy = new AccessTokenStrategy(config, new JwtService(), principals);
  const passport = new AuthPassport(strategy, new ApiKeyStrategy(principals));
  return { strategy, passport, forAccessToken };
}

describe('AccessTokenStrategy', () => {
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('verifies a signature once per token, reads the session on every request, and still says expired once the token has expired', async () => {
    jest.useFakeTimers({ now: new Date('2026-11-28T12:00:00Z') });
    const verifications = jest.spyOn(Strategy as unknown as { JwtVerifier: () => void }, 'JwtVerifier');
    const { passport, forAccessToken } = setUp();
    const given = token(access, 60);
    await expect(passport.authenticate(bearer(given))).resolves.toEqual({ user });
    await expect(passport.authenticate(bearer(given))).resolves.toEqual({ user });
    expect(verifications).toHaveBeenCalledTimes(1);
    expect(forAccessToken).toHaveBeenCalledTimes(2);
    jest.setSystemTime(new Date('2026-11-28T12:01:00Z'));
    await expect(passport.authenticate(bearer(given))).resolves.toEqual({ refusal: 'expired' });
    await expect(passport.authenticate(bearer(given))).resolves.toEqual({ refusal: 'expired' });
    expect(forAccessToken).toHaveBeenCalledTimes(2);
  });

  it('refuses a token signed with another secret or altered, even beside a verified one', async () => {
    const { strategy, passport } = setUp();
    const good = token(access);
    await expect(passport.authenticate(bearer(good))).resolves.toEqual({ user });
    const other = token(access, 60, 'another-secret-of-at-least-32-chars');
    await expect(passport.authenticate(bearer(other))).resolves.toEqual({ refusal: 'invalid' });
    expect(strategy.verify(other)).toEqual({ failure: 'invalid' });
    const [header, , signature] = good.split('.');
    const claims = Buffer.from(JSON.stringify({ ...access, sub: 'user-2' })).toString('base64url');
    const altered = `${header}.${claims}.${signature}`;
    await expect(passport.authenticate(bearer(altered))).resolves.toEqual({ refusal: 'invalid' });
    expect(strategy.verify(altered)).toEqual({ failure: 'invalid' });
    expect(strategy.verify(good)).toEqual({ payload: expect.objectContaining(access) });
  });

  it('says why verified claims are refused: not an access token, or a session that has ended', async () => {
    const { passport } = setUp();
    await expect(passport.authenticate(bearer(token({ ...access, typ: 'refresh' })))).resolves.toEqual({
      refusal: 'not_access_token',
    });
    const ended = setUp(null);
    await expect(ended.passport.authenticate(bearer(token(access)))).resolves.toEqual({
      refusal: 'session_ended',
    });
  });

  it('answers a synchronous verdict for a socket token, remembered like a request’s', () => {
    jest.useFakeTimers({ now: new Date('2026-11-28T12:00:00Z') });
    const { strategy } = setUp();
    const given = token(access, 60);
    expect(strategy.verify(given)).toEqual({ payload: expect.objectContaining(access) });
    jest.setSystemTime(new Date('2026-11-28T12:01:00Z'));
    expect(strategy.verify(given)).toEqual({ failure: 'expired' });
    expect(strategy.verify('not.a.token')).toEqual({ failure: 'invalid' });
  });
});
