import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { ERROR_STATUS } from '../src/common/errors/error-codes.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser } from './support/users.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Every error body carries a `code` from the one documented table, with the
 * status the table gives it: a client can branch on `code` without knowing
 * which module answered.
 */
describe('error codes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { AUTH_RATE_LIMIT_PER_ACCOUNT: '2' } });
  });
  afterAll(() => t.close());

  const api = () => request(t.url);
  const expectCode = (res: request.Response, code: keyof typeof ERROR_STATUS) => {
    expect({ status: res.status, code: res.body.code }).toEqual({ status: ERROR_STATUS[code], code });
    expect(typeof res.body.message === 'string' || Array.isArray(res.body.message)).toBe(true);
    expect(res.body.request_id).toBe(res.headers['x-request-id']);
  };

  it('names credentials problems apart: missing, wrong password, ended session', async () => {
    expectCode(await api().get('/api/v1/auth/me'), 'unauthenticated');
    expectCode(await api().get('/api/v1/auth/me').set('X-API-Key', 'adv_nope'), 'unauthenticated');
    const u = await newUser(t);
    expectCode(
      await api().post('/api/v1/auth/login').send({ email: u.email, password: 'not the password' }),
      'invalid_credentials',
    );
    const sessions = await api().get('/api/v1/auth/sessions').set(u.auth).expect(200);
    await api().delete(`/api/v1/auth/sessions/${sessions.body.sessions[0].id}`).set(u.auth).expect(204);
    expectCode(await api().get('/api/v1/auth/me').set(u.auth), 'session_ended');
    expectCode(
      await api().post('/api/v1/auth/refresh').send({ refresh_token: u.tokens.refresh_token }),
      'session_ended',
    );
  });

  it('answers duplicate for a taken email and validation_failed for a bad body', async () => {
    const u = await newUser(t);
    expectCode(
      await api().post('/api/v1/auth/register').send({ email: u.email, password: 'another long password' }),
      'duplicate',
    );
    const bad = await api().post('/api/v1/auth/register').send({ email: 'nope', password: 'x' });
    expectCode(bad, 'validation_failed');
    expect(bad.body.message).toEqual(expect.arrayContaining([expect.stringContaining('email')]));
  });

  it('answers role_required to a user on an admin route', async () => {
    const u = await newUser(t);
    expectCode(await api().get('/api/v1/admin/users').set(u.auth), 'role_required');
  });

  it('answers quota_exceeded naming the tier that has storage, not a 403', async () => {
    const u = await newUser(t, { tier: 'free' });
    const bytes = randomBytes(16);
    const res = await api()
      .post('/api/v1/storage/records')
      .set(u.auth)
      .send({ table: 'notes', blob: bytes.toString('base64'), checksum: sha(bytes) });
    expectCode(res, 'quota_exceeded');
    expect(res.body.required_tier).toBe('pro');
  });

  it('answers checksum_mismatch, not_found and version_conflict (with the current version) on records', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const bytes = randomBytes(16);
    expectCode(
      await api()
        .post('/api/v1/storage/records')
        .set(u.auth)
        .send({ table: 'notes', blob: bytes.toString('base64'), checksum: sha(randomBytes(16)) }),
      'checksum_mismatch',
    );
    const created = await api()
      .post('/api/v1/storage/records')
      .set(u.auth)
      .send({ table: 'notes', blob: bytes.toString('base64'), checksum: sha(bytes) })
      .expect(201);
    const id = created.body.id as string;
    const other = await newUser(t, { tier: 'pro' });
    expectCode(await api().get(`/api/v1/storage/records/${id}`).set(other.auth), 'not_found');
    const next = randomBytes(16);
    const update = { blob: next.toString('base64'), checksum: sha(next) };
    await api()
      .put(`/api/v1/storage/records/${id}`)
      .set(u.auth)
      .send({ ...update, base_version: 1 })
      .expect(200);
    const stale = await api()
      .put(`/api/v1/storage/records/${id}`)
      .set(u.auth)
      .send({ ...update, base_version: 1 });
    expectCode(stale, 'version_conflict');
    expect(stale.body).toMatchObject({ current_version: 2, checksum: sha(next) });
  });

  it('answers feature_not_configured when billing has no Stripe key', async () => {
    const u = await newUser(t);
    expectCode(
      await api().post('/api/v1/billing/checkout').set(u.auth).send({ tier: 'pro' }),
      'feature_not_configured',
    );
  });

  it('answers malformed_json, payload_too_large and a not_found route with their codes', async () => {
    expectCode(
      await api().post('/api/v1/auth/login').set('content-type', 'application/json').send('{"email":'),
      'malformed_json',
    );
    expectCode(
      await api()
        .post('/api/v1/auth/login')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ email: 'a'.repeat(2 * 1024 * 1024) })),
      'payload_too_large',
    );
    expectCode(await api().get('/api/v1/no-such-route'), 'not_found');
  });

  it('answers rate_limited with Retry-After once an account has too many failed sign-ins', async () => {
    const u = await newUser(t);
    let last: request.Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await api().post('/api/v1/auth/login').send({ email: u.email, password: 'wrong password!' });
    }
    expectCode(last!, 'rate_limited');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
  });
});
