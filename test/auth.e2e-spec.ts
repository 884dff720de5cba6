import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { PasswordService } from '../src/modules/auth/password.service.js';
import { forgeJwt } from './support/jwt.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { jwtPayload, newUser } from './support/users.js';

const PASSWORD = 'correct horse battery staple';

describe('auth: accounts, tokens, sessions', () => {
  let t: TestApp;
  let db: DataSource;
  // Sign-in limits are exercised in rate-limit.e2e-spec.ts; here they must not get in the way.
  beforeAll(async () => {
    t = await startTestApp({
      env: { AUTH_RATE_LIMIT_PER_IP: '10000', AUTH_RATE_LIMIT_PER_ACCOUNT: '10000' },
    });
    db = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  const api = () => request(t.url);
  const userCount = async () => Number((await db.query('SELECT count(*)::int AS n FROM users'))[0].n);

  describe('register', () => {
    it('creates an account and returns AuthTokens for a new session', async () => {
      const before = Date.now();
      const res = await api()
        .post('/api/v1/auth/register')
        .send({ email: 'reg-one@example.com', password: PASSWORD, device_name: 'laptop' })
        .expect(201);
      expect(res.body).toEqual({
        access_token: expect.any(String),
        refresh_token: expect.any(String),
        expires_at: expect.any(Number),
        token_type: 'bearer',
      });
      expect(res.body.expires_at).toBeGreaterThanOrEqual(before + 29 * 60_000);
      expect(res.body.expires_at).toBeLessThanOrEqual(Date.now() + 30 * 60_000);

      const me = await api()
        .get('/api/v1/auth/me')
        .set('Authorization', `Bearer ${res.body.access_token}`)
        .expect(200);
      expect(me.body).toEqual({
        id: expect.any(String),
        email: 'reg-one@example.com',
        tier: 'free',
        role: 'user',
      });
    });

    it('trims and lower-cases the email, and refuses a case variant with 409', async () => {
      await api()
        .post('/api/v1/auth/register')
        .send({ email: '  Case.Test@Example.COM ', password: PASSWORD })
        .expect(201);
      const n = await userCount();
      const dup = await api()
        .post('/api/v1/auth/register')
        .send({ email: 'case.test@EXAMPLE.com', password: PASSWORD })
        .expect(409);
      expect(dup.body.message).toBe('An account with this email already exists');
      expect(await userCount()).toBe(n);

      const login = await api()
        .post('/api/v1/auth/login')
        .send({ email: 'CASE.TEST@example.com', password: PASSWORD })
        .expect(200);
      const me = await api()
        .get('/api/v1/auth/me')
        .set('Authorization', `Bearer ${login.body.access_token}`)
        .expect(200);
      expect(me.body.email).toBe('case.test@example.com');
    });

    it.each([
      [{ email: 'short@example.com', password: '123456789' }, 'password must be 10 to 128 characters long'],
      [
        { email: 'long@example.com', password: 'x'.repeat(129) },
        'password must be 10 to 128 characters long',
      ],
      [{ email: 'not-an-email', password: PASSWORD }, 'email must be a valid email address'],
    ])('rejects %o with 400 and creates nothing', async (body, message) => {
      const n = await userCount();
      const res = await api().post('/api/v1/auth/register').send(body).expect(400);
      expect(res.body.message).toContain(message);
      expect(await userCount()).toBe(n);
    });

    it('ignores unknown fields: a role in the body is dropped, the account is a user', async () => {
      const res = await api()
        .post('/api/v1/auth/register')
        .send({ email: 'extra@example.com', password: PASSWORD, role: 'admin', tier: 'team' })
        .expect(201);
      const me = await api()
        .get('/api/v1/auth/me')
        .set('Authorization', `Bearer ${res.body.access_token}`)
        .expect(200);
      expect(me.body).toMatchObject({ email: 'extra@example.com', role: 'user', tier: 'free' });
    });

    it('stores an argon2id hash with m >= 19 MiB, t >= 2, p = 1, never the password', async () => {
      const u = await newUser(t);
      const [{ password_hash: hash }] = await db.query('SELECT password_hash FROM users WHERE id = $1', [
        u.id,
      ]);
      const m =
        /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(hash) ??
        /^\$argon2id\$v=19\$m=(\d+),p=(\d+),t=(\d+)\$/.exec(hash);
      expect(m).not.toBeNull();
      const params = Object.fromEntries(
        hash
          .split('$')[3]
          .split(',')
          .map((kv: string) => kv.split('=')),
      );
      expect(Number(params.m)).toBeGreaterThanOrEqual(19 * 1024);
      expect(Number(params.t)).toBeGreaterThanOrEqual(2);
      expect(Number(params.p)).toBe(1);
      expect(hash).not.toContain(PASSWORD);
    });
  });

  describe('login', () => {
    it('answers a wrong password and an unknown email with the same 401, each after one password verification', async () => {
      const u = await newUser(t);
      // Both paths spend one argon2 verification (an unknown email against a dummy hash), so their
      // cost is the same; without it an unknown email would answer ~10x faster. bench/auth.mjs has speeds.
      const verify = jest.spyOn(t.app.get(PasswordService), 'verify');
      try {
        const login = async (email: string) => {
          verify.mockClear();
          const res = await api()
            .post('/api/v1/auth/login')
            .send({ email, password: 'wrong password!!' })
            .expect(401);
          return {
            body: res.body as Record<string, unknown>,
            hashes: verify.mock.calls.map(([hash]) => hash),
          };
        };
        const wrong = await login(u.email);
        const unknown = await login('nobody-at-all@example.com');
        const strip = (b: Record<string, unknown>) => ({ ...b, request_id: undefined });
        expect(strip(unknown.body)).toEqual(strip(wrong.body));
        expect(wrong.body.message).toBe('Invalid email or password');
        expect(wrong.hashes).toEqual([expect.stringMatching(/^\$argon2id\$/)]);
        // null: the service verifies against its dummy hash (password.service.ts), one argon2 run too.
        expect(unknown.hashes).toEqual([null]);
      } finally {
        verify.mockRestore();
      }
    });

    it('writes a burst of failed logins to the audit log once', async () => {
      const u = await newUser(t);
      for (let i = 0; i < 6; i++) {
        await api()
          .post('/api/v1/auth/login')
          .send({ email: u.email, password: 'wrong password!!' })
          .expect(401);
      }
      const rows = await db.query(
        `SELECT subject_id, data FROM audit_log WHERE event_type = 'auth.login_failure_burst'`,
      );
      const mine = rows.filter((r: { subject_id: string }) => r.subject_id === u.id);
      expect(mine).toHaveLength(1);
      expect(JSON.stringify(mine[0].data)).not.toContain(u.email);
    });
  });

  describe('access tokens', () => {
    it('rejects every forged or foreign token with 401', async () => {
      const u = await newUser(t);
      const claims = jwtPayload(u.tokens.access_token);
      const secret = t.config.jwt.secret;
      const now = Math.floor(Date.now() / 1000);
      const forged: Record<string, string> = {
        'alg none': forgeJwt({ alg: 'none', typ: 'JWT' }, claims, secret, 'none'),
        'HS512 with the right secret': forgeJwt({ alg: 'HS512', typ: 'JWT' }, claims, secret, 'sha512'),
        'another secret': forgeJwt({ alg: 'HS256', typ: 'JWT' }, claims, 'x'.repeat(48)),
        expired: forgeJwt(
          { alg: 'HS256', typ: 'JWT' },
          { ...claims, iat: now - 7200, exp: now - 3600 },
          secret,
        ),
        'other issuer': forgeJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, iss: 'someone-else' }, secret),
        'other audience': forgeJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, aud: 'other-app' }, secret),
        'refresh type claim': forgeJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, typ: 'refresh' }, secret),
        'refresh token as access token': u.tokens.refresh_token,
        garbage: 'not.a.token',
      };
      const statuses: Record<string, number> = {};
      for (const [name, token] of Object.entries(forged)) {
        statuses[name] = (await api().get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`)).status;
      }
      expect(statuses).toEqual(Object.fromEntries(Object.keys(forged).map((k) => [k, 401])));
      // The genuine one works, so the 401s above are about the forgery.
      await api().get('/api/v1/auth/me').set(u.auth).expect(200);
    });

    it('tells an expired token apart so the client knows to refresh', async () => {
      const u = await newUser(t);
      const now = Math.floor(Date.now() / 1000);
      const expired = forgeJwt(
        { alg: 'HS256', typ: 'JWT' },
        { ...jwtPayload(u.tokens.access_token), iat: now - 7200, exp: now - 3600 },
        t.config.jwt.secret,
      );
      const res = await api().get('/api/v1/auth/me').set('Authorization', `Bearer ${expired}`).expect(401);
      expect(res.body.message).toMatch(/expired.*refresh/i);
      const none = await api().get('/api/v1/auth/me').expect(401);
      expect(none.body.message).toMatch(/Missing credentials/);
    });

    it('reads the tier from the database on every request', async () => {
      const u = await newUser(t);
      expect((await api().get('/api/v1/auth/me').set(u.auth).expect(200)).body.tier).toBe('free');
      await db.query(`UPDATE users SET tier_override = 'power' WHERE id = $1`, [u.id]);
      expect((await api().get('/api/v1/auth/me').set(u.auth).expect(200)).body.tier).toBe('power');
    });
  });

  describe('refresh tokens', () => {
    const refresh = (token: string) => api().post('/api/v1/auth/refresh').send({ refresh_token: token });

    it('rotates on every use and stores only a SHA-256 of the token', async () => {
      const u = await newUser(t);
      const first = await refresh(u.tokens.refresh_token).expect(200);
      expect(first.body.refresh_token).not.toBe(u.tokens.refresh_token);
      const second = await refresh(first.body.refresh_token).expect(200);
      await api()
        .get('/api/v1/auth/me')
        .set('Authorization', `Bearer ${second.body.access_token}`)
        .expect(200);

      const stored = await db.query('SELECT token_hash FROM refresh_tokens');
      const all = JSON.stringify(stored);
      for (const tok of [u.tokens.refresh_token, first.body.refresh_token, second.body.refresh_token]) {
        expect(all).not.toContain(tok);
      }
    });

    it('revokes the whole family when a rotated token is presented again', async () => {
      const u = await newUser(t);
      const next = await refresh(u.tokens.refresh_token).expect(200);
      const reuse = await refresh(u.tokens.refresh_token).expect(401);
      expect(reuse.body.message).toMatch(/already used.*revoked/);
      // The newest refresh token and the session's access token stop working too.
      await refresh(next.body.refresh_token).expect(401);
      await api().get('/api/v1/auth/me').set('Authorization', `Bearer ${next.body.access_token}`).expect(401);
      const audit = await db.query(
        `SELECT actor_id FROM audit_log WHERE event_type = 'auth.refresh_token_reuse'`,
      );
      expect(audit.map((r: { actor_id: string }) => r.actor_id)).toContain(u.id);
    });

    it('gives exactly one success to two parallel refreshes of the same token', async () => {
      const u = await newUser(t);
      const results = await Promise.all([refresh(u.tokens.refresh_token), refresh(u.tokens.refresh_token)]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    });

    it('expires a session idle for longer than JWT_REFRESH_TOKEN_EXPIRE_DAYS', async () => {
      const u = await newUser(t);
      await db.query(`UPDATE sessions SET last_used_at = now() - interval '31 days' WHERE user_id = $1`, [
        u.id,
      ]);
      const res = await refresh(u.tokens.refresh_token).expect(401);
      expect(res.body.message).toMatch(/expired after inactivity/);
    });

    it('answers an unknown token with 401 and a missing one with 400', async () => {
      await refresh('no-such-token').expect(401);
      await api().post('/api/v1/auth/refresh').send({}).expect(400);
    });
  });

  describe('logout and sessions', () => {
    it('logout ends the session: its refresh and access tokens stop working; unknown tokens are fine', async () => {
      const u = await newUser(t);
      await api().post('/api/v1/auth/logout').send({ refresh_token: u.tokens.refresh_token }).expect(204);
      await api().post('/api/v1/auth/refresh').send({ refresh_token: u.tokens.refresh_token }).expect(401);
      await api().get('/api/v1/auth/me').set(u.auth).expect(401);
      await api().post('/api/v1/auth/logout').send({ refresh_token: 'unknown' }).expect(204);
    });

    it('lists sessions with the current one marked, deletes one, and hides other users’ sessions', async () => {
      const u = await newUser(t, { device: 'desktop' });
      const phone = await api()
        .post('/api/v1/auth/login')
        .send({ email: u.email, password: u.password, device_name: 'phone' })
        .expect(200);
      const list = await api().get('/api/v1/auth/sessions').set(u.auth).expect(200);
      expect(list.body.sessions).toHaveLength(2);
      const byName = Object.fromEntries(
        list.body.sessions.map((s: { device_name: string }) => [s.device_name, s]),
      );
      expect(byName.desktop).toMatchObject({
        current: true,
        created_at: expect.any(Number),
        last_active_at: expect.any(Number),
      });
      expect(byName.phone.current).toBe(false);

      const other = await newUser(t);
      await api().delete(`/api/v1/auth/sessions/${byName.phone.id}`).set(other.auth).expect(404);
      await api().delete(`/api/v1/auth/sessions/${randomUUID()}`).set(u.auth).expect(404);
      await api().delete('/api/v1/auth/sessions/not-a-uuid').set(u.auth).expect(400);

      await api().delete(`/api/v1/auth/sessions/${byName.phone.id}`).set(u.auth).expect(204);
      await api()
        .get('/api/v1/auth/me')
        .set('Authorization', `Bearer ${phone.body.access_token}`)
        .expect(401);
      await api().post('/api/v1/auth/refresh').send({ refresh_token: phone.body.refresh_token }).expect(401);
      const after = await api().get('/api/v1/auth/sessions').set(u.auth).expect(200);
      expect(after.body.sessions.map((s: { device_name: string }) => s.device_name)).toEqual(['desktop']);
    });
  });

  describe('API keys', () => {
    it('shows the key once, stores only its hash, accepts it in both headers, keeps last_used_at, revokes', async () => {
      const u = await newUser(t, { tier: 'pro' });
      const created = await api()
        .post('/api/v1/auth/api-keys')
        .set(u.auth)
        .send({ name: 'ci job' })
        .expect(201);
      const key: string = created.body.key;
      expect(key).toMatch(/^adv_[A-Za-z0-9_-]{40,}$/);
      expect(created.body).toMatchObject({ name: 'ci job', prefix: key.slice(0, 8), last_used_at: null });

      const list = await api().get('/api/v1/auth/api-keys').set(u.auth).expect(200);
      expect(list.body.api_keys).toEqual([
        {
          id: created.body.id,
          name: 'ci job',
          prefix: key.slice(0, 8),
          created_at: expect.any(Number),
          last_used_at: null,
        },
      ]);
      expect(JSON.stringify(list.body)).not.toContain(key);
      expect(JSON.stringify(await db.query('SELECT * FROM api_keys'))).not.toContain(key);

      const viaHeader = await api().get('/api/v1/auth/me').set('X-API-Key', key).expect(200);
      expect(viaHeader.body).toEqual({ id: u.id, email: u.email, tier: 'pro', role: 'user' });
      await api().get('/api/v1/auth/me').set('Authorization', `Bearer ${key}`).expect(200);

      // last_used_at is written in the background of the request: poll briefly.
      let lastUsed: number | null = null;
      for (let i = 0; i < 20 && !lastUsed; i++) {
        lastUsed = (await api().get('/api/v1/auth/api-keys').set(u.auth)).body.api_keys[0].last_used_at;
        if (!lastUsed) await new Promise((r) => setTimeout(r, 50));
      }
      expect(lastUsed).toEqual(expect.any(Number));

      const other = await newUser(t);
      await api().delete(`/api/v1/auth/api-keys/${created.body.id}`).set(other.auth).expect(404);
      await api().get('/api/v1/auth/me').set('X-API-Key', key).expect(200);
      await api().delete(`/api/v1/auth/api-keys/${created.body.id}`).set(u.auth).expect(204);
      await api().get('/api/v1/auth/me').set('X-API-Key', key).expect(401);
      await api().get('/api/v1/auth/me').set('X-API-Key', 'adv_made-up').expect(401);

      const types = (await db.query(`SELECT event_type FROM audit_log WHERE actor_id = $1`, [u.id])).map(
        (r: { event_type: string }) => r.event_type,
      );
      expect(types).toEqual(expect.arrayContaining(['auth.api_key_created', 'auth.api_key_revoked']));
    });

    it('refuses a request carrying both an access token and an API key: 400 naming both headers', async () => {
      const owner = await newUser(t, { tier: 'pro' });
      const other = await newUser(t);
      const { key } = (
        await api().post('/api/v1/auth/api-keys').set(owner.auth).send({ name: 'two' }).expect(201)
      ).body as { key: string };
      // Each alone authenticates its own principal.
      expect((await api().get('/api/v1/auth/me').set('X-API-Key', key).expect(200)).body.id).toBe(owner.id);
      expect((await api().get('/api/v1/auth/me').set(other.auth).expect(200)).body.id).toBe(other.id);

      // Together, neither acts (another user's key, the same user's key, an API key as a Bearer token too).
      for (const authorization of [other.auth.Authorization, owner.auth.Authorization, `Bearer ${key}`]) {
        const both = await api()
          .get('/api/v1/auth/me')
          .set('Authorization', authorization)
          .set('X-API-Key', key)
          .expect(400);
        expect(both.body.code).toBe('validation_failed');
        expect(both.body.message).toMatch(/Authorization/);
        expect(both.body.message).toMatch(/X-API-Key/);
      }
      // A write is refused the same way, before anything is created.
      await api()
        .post('/api/v1/auth/api-keys')
        .set(owner.auth)
        .set('X-API-Key', key)
        .send({ name: 'not made' })
        .expect(400);
      const names = (await api().get('/api/v1/auth/api-keys').set(owner.auth).expect(200)).body.api_keys.map(
        (k: { name: string }) => k.name,
      );
      expect(names).toEqual(['two']);
    });

    it('validates the name', async () => {
      const u = await newUser(t);
      await api().post('/api/v1/auth/api-keys').set(u.auth).send({ name: '' }).expect(400);
      await api().post('/api/v1/auth/api-keys').set(u.auth).send({}).expect(400);
    });
  });
});
