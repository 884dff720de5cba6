import type { IncomingMessage } from 'node:http';
import { requestIdFor } from './logger.js';

const req = (value?: string | string[]) =>
  ({ headers: { 'x-request-id': value } }) as unknown as IncomingMessage;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdFor', () => {
  it('keeps a sane client id', () => {
    expect(requestIdFor(req('abc-123_x.y:z'))).toBe('abc-123_x.y:z');
  });

  it('replaces a missing, oversized or unsafe id with a UUID (no log injection)', () => {
    expect(requestIdFor(req())).toMatch(UUID);
    expect(requestIdFor(req('x'.repeat(129)))).toMatch(UUID);
    expect(requestIdFor(req('a\nb'))).toMatch(UUID);
    expect(requestIdFor(req('"quoted"'))).toMatch(UUID);
  });
});
