import type { Request } from 'express';
import { routeLabel, statusClass } from './http-metrics.js';
import { blobKind } from './store-metrics.js';
import { scrubAttributes } from '../tracing/scrub.js';

const req = (route: unknown, baseUrl = '') => ({ route, baseUrl }) as unknown as Request;

describe('metric labels', () => {
  it('labels a request by its route template, never its path', () => {
    expect(routeLabel(req({ path: '/api/v1/records/:id' }))).toBe('/api/v1/records/:id');
    expect(routeLabel(req({ path: '/:id' }, '/api/v1/things'))).toBe('/api/v1/things/:id');
    expect(routeLabel(req(undefined))).toBe('unmatched');
    expect(routeLabel(req({ path: '/api/v1*path' }))).toBe('unmatched');
    expect(routeLabel(req({ path: /regex/ }))).toBe('unmatched');
  });

  it('sorts statuses into classes', () => {
    expect([101, 200, 204, 302, 404, 429, 500, 503, 99, 600].map(statusClass)).toEqual([
      '1xx',
      '2xx',
      '2xx',
      '3xx',
      '4xx',
      '4xx',
      '5xx',
      '5xx',
      'other',
      'other',
    ]);
  });

  it('tells blob kinds from the key layouts, without the key', () => {
    const user = '0b7e2f7c-5d1a-4a7e-9c1f-2b3c4d5e6f70';
    expect(blobKind(`${user}/backups/${user}`)).toBe('backup');
    expect(blobKind(`${user}/tasks/${user}.bin`)).toBe('record');
    expect(blobKind('plugins/focus-timer/1.zip')).toBe('plugin');
    expect(blobKind('elsewhere/x')).toBe('other');
  });
});

describe('span scrubbing', () => {
  it('reduces a server span to its route and a client span to its origin, and drops queries and addresses', () => {
    const server: Record<string, unknown> = {
      'http.route': '/api/v1/records/:id',
      'url.path': '/api/v1/records/0b7e2f7c',
      'http.target': '/api/v1/records/0b7e2f7c?token=x',
      'url.query': 'token=x',
      'client.address': '203.0.113.9',
    };
    scrubAttributes(1, server);
    expect(server).toEqual({
      'http.route': '/api/v1/records/:id',
      'url.path': '/api/v1/records/:id',
      'http.target': '/api/v1/records/:id',
    });
    const unmatched: Record<string, unknown> = { 'url.path': '/api/v1/nothing/0b7e2f7c' };
    scrubAttributes(1, unmatched);
    expect(unmatched).toEqual({ 'url.path': 'unmatched' });
    const client: Record<string, unknown> = {
      'url.full': 'https://bucket.s3.amazonaws.com/0b7e2f7c/backups/1?X-Amz-Signature=abc',
      'url.path': '/0b7e2f7c/backups/1',
    };
    scrubAttributes(2, client);
    expect(client).toEqual({ 'url.full': 'https://bucket.s3.amazonaws.com' });
  });
});
