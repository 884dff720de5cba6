import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import request from 'supertest';
import { ERROR_STATUS, type ErrorCode } from '../src/common/errors/error-codes.js';
import { MAX_JSON_ENTRIES } from '../src/common/input/input-limits.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser } from './support/users.js';

/** What came back on a raw connection: status line, headers, body, and whether the server closed it. */
interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  closed: boolean;
}

/** Writes `bytes` on a fresh TCP connection and reads until the server closes it. */
function rawRequest(url: string, bytes: string | Buffer): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A server that closes while we still write may reset: what was read still counts.
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      resolve({
        status: Number(statusLine.split(' ')[1]),
        headers,
        body: JSON.parse(text.slice(end + 4)) as Record<string, unknown>,
        closed: true,
      });
    });
  });
}

describe('refusals in the one error shape', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const api = () => request(t.url);
  const expectError = (
    answer: { status: number; body: Record<string, unknown>; headers: Record<string, string | string[]> },
    code: ErrorCode,
  ) => {
    expect({ status: answer.status, code: answer.body.code }).toEqual({ status: ERROR_STATUS[code], code });
    expect(answer.body).toEqual({
      statusCode: ERROR_STATUS[code],
      error: expect.any(String),
      code,
      message: expect.anything(),
      request_id: answer.headers['x-request-id'],
    });
  };

  describe('requests Node’s HTTP parser refuses', () => {
    const manyHeaders = Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const cases: Array<[string, string, ErrorCode]> = [
      [
        'a control character in a header',
        'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n',
        'bad_request',
      ],
      [
        'a 20 KB header',
        `GET /health HTTP/1.1\r\nHost: x\r\nX-A: ${'a'.repeat(20_000)}\r\n\r\n`,
        'headers_too_large',
      ],
      ['3,000 headers', `GET /health HTTP/1.1\r\nHost: x\r\n${manyHeaders}\r\n`, 'headers_too_large'],
      ['a 70 KB path', `GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 'uri_too_long'],
      ['a malformed request line', 'GET/health\r\n\r\n', 'bad_request'],
      ['an unknown HTTP version', 'GET /health HTTP/9.9\r\nHost: x\r\n\r\n', 'bad_request'],
    ];
    it.each(cases)(
      '%s: JSON with its code and X-Request-Id, one log line, connection closed',
      async (_name, bytes, code) => {
        const before = t.logs.lines.length;
        const answer = await rawRequest(t.url, bytes);
        expectError(answer, code);
        expect(answer.headers['content-type']).toMatch(/^application\/json/);
        expect(answer.headers.connection).toBe('close');
        const logged = t.logs.lines
          .slice(before)
          .filter((l) => l.request_id === answer.headers['x-request-id']);
        expect(logged).toEqual([
          expect.objectContaining({ code, msg: 'request refused by the HTTP parser' }),
        ]);
      },
    );

    it('keeps the client’s X-Request-Id when the refused request carried a sane one', async () => {
      const id = `trace-${randomUUID()}`;
      const answer = await rawRequest(
        t.url,
        `GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${id}\r\nX-A: \x7f\r\n\r\n`,
      );
      expect(answer.headers['x-request-id']).toBe(id);
      expect(answer.body.request_id).toBe(id);
    });
  });

  it('answers 405 method_not_allowed with Allow for a known path and an unknown method; 404 for an unknown path', async () => {
    const u = await newUser(t);
    const res = await api().patch('/api/v1/auth/me').set(u.auth);
    expectError(res, 'method_not_allowed');
    expect(res.headers.allow).toBe('GET, HEAD');
    const ids = await api().put(`/api/v1/storage/records/${randomUUID()}/nope`).set(u.auth);
    expectError(ids, 'not_found');
    const unauthenticated = await api().post('/api/v1/health');
    expectError(unauthenticated, 'method_not_allowed');
    expect(unauthenticated.headers.allow).toBe('GET, HEAD');
  });

  it('answers 415 unsupported_media_type for a charset or Content-Encoding it does not read', async () => {
    const charset = await api()
      .post('/api/v1/auth/login')
      .set('Content-Type', 'application/json; charset=latin1')
      .send('{"email":"a@example.com","password":"x"}');
    expectError(charset, 'unsupported_media_type');
    const encoding = await api()
      .post('/api/v1/auth/login')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'zstd')
      .send('{"email":"a@example.com","password":"x"}');
    expectError(encoding, 'unsupported_media_type');
  });

  it('answers 400, never 500, to a day PostgreSQL has no year for', async () => {
    const admin = await newUser(t, { role: 'admin' });
    for (const date of ['0000-01-01', '0000-12-31']) {
      const res = await api().get(`/api/v1/admin/usage?date=${date}`).set(admin.auth);
      expectError(res, 'validation_failed');
      expect(res.body.message).toEqual(expect.arrayContaining([expect.stringContaining('years 0001–9999')]));
    }
    await api().get('/api/v1/admin/usage?date=0001-01-01').set(admin.auth).expect(200);
    await api().get('/api/v1/admin/usage?date=9999-12-31').set(admin.auth).expect(200);
  });

  it('reads query integers only as decimal digits', async () => {
    const u = await newUser(t);
    for (const days of ['1e1', '0x10', '2.5', '', ' 7', '+7', '7 ']) {
      const res = await api().get('/api/v1/usage/history').query({ days }).set(u.auth);
      expectError(res, 'validation_failed');
    }
    await api().get('/api/v1/usage/history?days=7').set(u.auth).expect(200);
  });

  it('takes any RFC 9562 UUID as an id (other variants, nil, max, upper case): 404, not 400', async () => {
    const u = await newUser(t);
    for (const id of [
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      '6ba7b810-9dad-01d1-c0b4-00c04fd430c8',
      '6BA7B810-9DAD-41D1-80B4-00C04FD430C8',
    ]) {
      expectError(await api().get(`/api/v1/storage/records/${id}`).set(u.auth), 'not_found');
    }
    expectError(
      await api().get('/api/v1/storage/records/6ba7b810-9dad-41d1-80b4').set(u.auth),
      'validation_failed',
    );
  });

  it('answers a 1 MB flat JSON array to /auth/login with 413 from its Content-Length: no validation ran', async () => {
    const body = `[${Array.from({ length: 350_000 }, (_, i) => i % 10).join(',')}]`;
    expect(body.length).toBeGreaterThan(650_000);
    const before = t.logs.lines.length;
    const res = await api().post('/api/v1/auth/login').set('Content-Type', 'application/json').send(body);
    expectError(res, 'payload_too_large');
    expect(res.body.message).toBe('Request body exceeds the limit of 16 KiB');
    // Refused before a byte was read: the connection closes instead of reading the rest.
    expect(res.headers.connection).toBe('close');
    const line = t.logs.lines.slice(before).find((l) => l.request_id === res.headers['x-request-id']);
    expect(line).toMatchObject({ res: { status: 413 } });
  });

  it('counts every array item, numbers too, toward the entry limit, in fields no DTO knows as well', async () => {
    const u = await newUser(t);
    const numbers = Array.from({ length: MAX_JSON_ENTRIES + 1 }, () => 1);
    const res = await api()
      .put('/api/v1/storage/devices/laptop')
      .set(u.auth)
      .send({ name: 'Laptop', unknown: numbers });
    expectError(res, 'validation_failed');
    expect(res.body.message).toBe(`body has more than ${MAX_JSON_ENTRIES} keys and array items`);
    // An unknown field within the limit is dropped, as before.
    const ok = await api()
      .put('/api/v1/storage/devices/laptop')
      .set(u.auth)
      .send({ name: 'Laptop', unknown: numbers.slice(0, 1000) })
      .expect(200);
    expect(ok.body).not.toHaveProperty('unknown');
  });
});
