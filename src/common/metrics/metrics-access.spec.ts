import { metricsAccess } from './metrics-access.js';

const TOKEN = 'a-metrics-token-of-32-characters';

describe('metricsAccess', () => {
  it('serves nothing on the public API without a token, or when metrics have their own port', () => {
    expect(metricsAccess({ port: undefined, token: undefined }, 'public', `Bearer ${TOKEN}`)).toBe(
      'not_found',
    );
    expect(metricsAccess({ port: 9464, token: undefined }, 'public', undefined)).toBe('not_found');
    expect(metricsAccess({ port: 9464, token: TOKEN }, 'public', `Bearer ${TOKEN}`)).toBe('not_found');
  });

  it('asks the public API for the exact bearer token', () => {
    const config = { port: undefined, token: TOKEN };
    expect(metricsAccess(config, 'public', undefined)).toBe('unauthenticated');
    expect(metricsAccess(config, 'public', TOKEN)).toBe('unauthenticated');
    expect(metricsAccess(config, 'public', `Basic ${TOKEN}`)).toBe('unauthenticated');
    expect(metricsAccess(config, 'public', `Bearer ${TOKEN.slice(1)}`)).toBe('unauthenticated');
    expect(metricsAccess(config, 'public', `Bearer ${TOKEN}x`)).toBe('unauthenticated');
    expect(metricsAccess(config, 'public', `Bearer ${TOKEN}`)).toBe('allowed');
    expect(metricsAccess(config, 'public', `bearer  ${TOKEN} `)).toBe('allowed');
  });

  it('opens the metrics port to anyone who reaches it, or to the token holder when a token is set', () => {
    expect(metricsAccess({ port: 9464, token: undefined }, 'port', undefined)).toBe('allowed');
    expect(metricsAccess({ port: 9464, token: TOKEN }, 'port', undefined)).toBe('unauthenticated');
    expect(metricsAccess({ port: 9464, token: TOKEN }, 'port', `Bearer ${TOKEN}`)).toBe('allowed');
  });
});
