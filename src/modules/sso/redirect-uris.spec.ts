import { redirectUriProblem, withParams } from './redirect-uris.js';

describe('sign-in redirect URIs', () => {
  const rules = {
    publicOrigin: 'https://api.example.com',
    allowlist: ['adiuva://auth/callback', 'https://app.example.com/sso/done'],
  };
  const allowed = (uri: string) => redirectUriProblem(uri, rules) === null;

  it('allows loopback listeners on any port, the public origin and the allowlist (query aside)', () => {
    expect(allowed('http://127.0.0.1:51234/callback')).toBe(true);
    expect(allowed('http://127.0.0.1/callback?client_state=x')).toBe(true);
    expect(allowed('http://[::1]:8080/')).toBe(true);
    expect(allowed('https://api.example.com/web/sso-done')).toBe(true);
    expect(allowed('adiuva://auth/callback')).toBe(true);
    expect(allowed('adiuva://auth/callback?x=1')).toBe(true);
    expect(allowed('https://app.example.com/sso/done')).toBe(true);
  });

  it('refuses everything else', () => {
    for (const uri of [
      'http://localhost:51234/callback', // a name, which could resolve elsewhere
      'https://127.0.0.1:51234/callback', // loopback is http only
      'http://127.0.0.2/callback',
      'http://api.example.com/x', // the public origin is https
      'https://api.example.com.evil.test/x',
      'adiuva://auth/other',
      'adiuvax://auth/callback',
      'https://app.example.com/sso/done/more',
      'https://app.example.com/sso/done#frag',
      'http://127.0.0.1:1/cb#frag',
      'https://user:pw@api.example.com/x',
      'javascript:alert(1)',
      'not a uri',
      `http://127.0.0.1/${'a'.repeat(2100)}`,
    ]) {
      expect({ uri, allowed: allowed(uri) }).toEqual({ uri, allowed: false });
    }
  });

  it("adds the code to the client's own query", () => {
    expect(withParams('adiuva://auth/callback?client_state=s', { code: 'abc' })).toBe(
      'adiuva://auth/callback?client_state=s&code=abc',
    );
  });
});
