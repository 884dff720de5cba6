import { apiKeyFrom, bearerToken } from './credentials.service.js';

describe('bearerToken', () => {
  it('reads the Bearer scheme in any case, and nothing else', () => {
    expect(bearerToken({ authorization: 'Bearer abc' })).toBe('abc');
    expect(bearerToken({ authorization: 'bearer abc' })).toBe('abc');
    expect(bearerToken({ authorization: 'Basic abc' })).toBeUndefined();
    expect(bearerToken({ authorization: 'Bearer' })).toBeUndefined();
    expect(bearerToken({})).toBeUndefined();
  });
});

describe('apiKeyFrom', () => {
  it('reads X-API-Key, or an API key sent as a Bearer token, and not an access token', () => {
    expect(apiKeyFrom({ 'x-api-key': 'adv_abc' })).toBe('adv_abc');
    expect(apiKeyFrom({ authorization: 'Bearer adv_abc' })).toBe('adv_abc');
    expect(apiKeyFrom({ authorization: 'Bearer eyJhbGciOi.x.y' })).toBeUndefined();
    expect(apiKeyFrom({ 'x-api-key': '' })).toBeUndefined();
  });
});
