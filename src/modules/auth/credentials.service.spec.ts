import { jest } from '@jest/globals';
import { JwtService } from '@nestjs/jwt';
import type { AuthFailureLimiter } from '../../common/rate-limit/auth-failure-limiter.js';
import type { AppConfig } from '../../config/app-config.js';
import { JWT_AUDIENCE, JWT_ISSUER } from './auth.types.js';
import { bearerToken, CredentialsService } from './credentials.service.js';
import type { PrincipalService } from './principal.service.js';

const SECRET = 'a-test-secret-of-at-least-32-characters';
const jwt = new JwtService();
const config = { jwt: { secret: SECRET } } as AppConfig;

function token(claims: Record<string, unknown>, expiresIn = 60, secret = SECRET): string {
  return jwt.sign(claims, {
    secret,
    algorithm: 'HS256',
    expiresIn,
    issuer: JWT_ISSUER,
    audience: JWT_AUDIENCE,
  });
}

const access = { sub: 'user-1', sid: 'session-1', typ: 'access' };

describe('CredentialsService.verifyAccessToken', () => {
  afterEach(() => jest.useRealTimers());

  it('verifies a signature once per token, and still says expired once the token has expired', () => {
    jest.useFakeTimers({ now: new Date('2026-11-28T12:00:00Z') });
    const verifier = new JwtService();
    const verify = jest.spyOn(verifier, 'verify');
    const credentials = new CredentialsService(
      verifier,
      {} as PrincipalService,
      {} as AuthFailureLimiter,
      config,
    );
    const given = token(access, 60);
    expect(credentials.verifyAccessToken(given)).toEqual({ payload: expect.objectContaining(access) });
    expect(credentials.verifyAccessToken(given)).toEqual({ payload: expect.objectContaining(access) });
    expect(verify).toHaveBeenCalledTimes(1);
    jest.setSystemTime(new Date('2026-11-28T12:01:00Z'));
    expect(credentials.verifyAccessToken(given)).toEqual({ failure: 'expired' });
    expect(credentials.verifyAccessToken(given)).toEqual({ failure: 'expired' });
  });

  it('refuses a token signed with another secret or altered, even beside a verified one', () => {
    const credentials = new CredentialsService(
      new JwtService(),
      {} as PrincipalService,
      {} as AuthFailureLimiter,
      config,
    );
    const good = token(access);
    expect(credentials.verifyAccessToken(good)).toHaveProperty('payload');
    expect(credentials.verifyAccessToken(token(access, 60, 'another-secret-of-at-least-32-chars'))).toEqual({
      failure: 'invalid',
    });
    const [header, , signature] = good.split('.');
    const claims = Buffer.from(JSON.stringify({ ...access, sub: 'user-2' })).toString('base64url');
    expect(credentials.verifyAccessToken(`${header}.${claims}.${signature}`)).toEqual({ failure: 'invalid' });
  });
});

describe('bearerToken', () => {
  it('reads the Bearer scheme in any case, and nothing else', () => {
    expect(bearerToken({ authorization: 'Bearer abc' })).toBe('abc');
    expect(bearerToken({ authorization: 'bearer abc' })).toBe('abc');
    expect(bearerToken({ authorization: 'Basic abc' })).toBeUndefined();
    expect(bearerToken({ authorization: 'Bearer' })).toBeUndefined();
    expect(bearerToken({})).toBeUndefined();
  });
});
