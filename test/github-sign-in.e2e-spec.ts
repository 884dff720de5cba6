import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { FakeGithub, type GithubUser } from './support/fake-github.js';
import { followRedirects } from './support/oidc-idp.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser } from './support/users.js';

/**
 * Sign in with GitHub against a local server speaking GitHub's OAuth endpoints: the account
 * is found by GitHub's verified primary email (or its link), an unverified one is refused,
 * and an existing password account is linked once with its password.
 */
describe('sign in with GitHub', () => {
  const github = new FakeGithub();
  let t: TestApp;
  const CLIENT_REDIRECT = 'http://127.0.0.1:51234/done';

  beforeAll(async () => {
    await github.start();
    t = await startTestApp({
      env: {
        GITHUB_CLIENT_ID: github.clientId,
        GITHUB_CLIENT_SECRET: github.clientSecret,
        GITHUB_BASE_URL: github.url,
        GITHUB_API_URL: github.url,
        AUTH_RATE_LIMIT_PER_IP: '10000',
      },
    });
  }, 120_000);
  afterAll(async () => {
    await t.close();
    await github.stop();
  });

  const api = () => request(t.url);
  const usersWithEmail = async (email: string) =>
    Number(
      (
        await t.app
          .get(DataSource)
          .query<Array<{ n: string }>>('SELECT count(*) AS n FROM users WHERE email = $1', [email])
      )[0].n,
    );
  const githubUser = (email: string, verified = true): GithubUser => ({
    id: Math.floor(Math.random() * 1e9),
    login: `dev-${randomUUID().slice(0, 6)}`,
    emails: [
      { email: `other-${randomUUID().slice(0, 6)}@example.net`, primary: false, verified: true },
      { email, primary: true, verified },
    ],
  });

  async function signIn(): Promise<URL> {
    const start = await api()
      .post('/api/v1/auth/oauth/github/start')
      .send({ redirect_uri: CLIENT_REDIRECT })
      .expect(200);
    const url = new URL(start.body.authorization_url as string);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    const callback = await followRedirects(url.href, `${t.url}/api/v1/auth/oauth/github/callback`);
    const res = await api()
      .get(callback.pathname + callback.search)
      .expect(302);
    return new URL(res.headers.location);
  }

  it('makes an account for a new verified primary email, and finds it again by the GitHub user', async () => {
    const email = `gh-${randomUUID().slice(0, 8)}@example.com`;
    const user = githubUser(email);
    github.signInAs(user);
    const code = (await signIn()).searchParams.get('code');
    const tokens = await api().post('/api/v1/auth/oauth/github/exchange').send({ code }).expect(200);
    const me = await api()
      .get('/api/v1/auth/me')
      .set('Authorization', `Bearer ${tokens.body.access_token}`)
      .expect(200);
    expect(me.body.email).toBe(email);
    const replay = await api().post('/api/v1/auth/oauth/github/exchange').send({ code });
    expect({ status: replay.status, code: replay.body.code }).toEqual({
      status: 400,
      code: 'sso_code_invalid',
    });
    // The same GitHub user with another primary email is still the same account.
    github.signInAs({ ...user, emails: [{ email: `new-${email}`, primary: true, verified: true }] });
    const again = await api()
      .post('/api/v1/auth/oauth/github/exchange')
      .send({ code: (await signIn()).searchParams.get('code') })
      .expect(200);
    expect(
      (await api().get('/api/v1/auth/me').set('Authorization', `Bearer ${again.body.access_token}`)).body.id,
    ).toBe(me.body.id);
    expect(await usersWithEmail(email)).toBe(1);
  });

  it('refuses an unverified primary email, making no account', async () => {
    const email = `gh-${randomUUID().slice(0, 8)}@example.com`;
    github.signInAs(githubUser(email, false));
    const location = await signIn();
    expect(location.searchParams.get('error')).toBe('email_unverified');
    expect(location.searchParams.get('code')).toBeNull();
    expect(await usersWithEmail(email)).toBe(0);
  });

  it("links an existing password account only with that account's password, once", async () => {
    const owner = await newUser(t);
    github.signInAs(githubUser(owner.email));
    const code = (await signIn()).searchParams.get('code');
    const exchange = await api().post('/api/v1/auth/oauth/github/exchange').send({ code });
    expect({ status: exchange.status, code: exchange.body.code }).toEqual({
      status: 409,
      code: 'link_required',
    });
    const wrong = await api()
      .post('/api/v1/auth/oauth/github/link')
      .send({ code, password: 'not the password' });
    expect({ status: wrong.status, code: wrong.body.code }).toEqual({
      status: 401,
      code: 'invalid_credentials',
    });
    const linked = await api()
      .post('/api/v1/auth/oauth/github/link')
      .send({ code, password: owner.password })
      .expect(200);
    expect(
      (await api().get('/api/v1/auth/me').set('Authorization', `Bearer ${linked.body.access_token}`)).body.id,
    ).toBe(owner.id);
    const reuse = await api().post('/api/v1/auth/oauth/github/link').send({ code, password: owner.password });
    expect(reuse.body.code).toBe('sso_code_invalid');
    // Linked: the next GitHub sign-in needs no password.
    await api()
      .post('/api/v1/auth/oauth/github/exchange')
      .send({ code: (await signIn()).searchParams.get('code') })
      .expect(200);
  });

  /** A fresh GitHub sign-in of `user`: its AuthTokens, through the whole redirect dance. */
  async function signInTokens(user: GithubUser): Promise<{ access_token: string }> {
    github.signInAs(user);
    const code = (await signIn()).searchParams.get('code');
    return (await api().post('/api/v1/auth/oauth/github/exchange').send({ code }).expect(200)).body as {
      access_token: string;
    };
  }

  it('deletes an account without a password on a fresh GitHub sign-in only, never on an old session or an API key', async () => {
    const db = t.app.get(DataSource);
    const user = githubUser(`gh-${randomUUID().slice(0, 8)}@example.com`);
    const first = await signInTokens(user);
    const bearer = { Authorization: `Bearer ${first.access_token}` };
    const me = await api().get('/api/v1/auth/me').set(bearer).expect(200);
    const key = (await api().post('/api/v1/auth/api-keys').set(bearer).send({ name: 'ci' }).expect(201)).body
      .key as string;
    // The sign-in was 11 minutes ago: not fresh any more, whatever the request carries.
    await db.query(`UPDATE sessions SET created_at = now() - interval '11 minutes' WHERE user_id = $1`, [
      me.body.id,
    ]);
    for (const [credentials, body] of [
      [bearer, {}],
      [bearer, { password: 'anything' }],
      [{ 'X-API-Key': key }, {}],
    ] as const) {
      const refused = await api().delete('/api/v1/account').set(credentials).send(body);
      expect({ status: refused.status, code: refused.body.code }).toEqual({
        status: 403,
        code: 'reauthentication_required',
      });
      expect(refused.body.message).toMatch(/sign in again/);
    }
    // Nothing changed: the session and the key still work, no erasure was scheduled.
    await api().get('/api/v1/auth/me').set(bearer).expect(200);
    await api().get('/api/v1/auth/me').set('X-API-Key', key).expect(200);
    const erasures = await db.query<unknown[]>('SELECT id FROM account_erasures WHERE user_id = $1', [
      me.body.id,
    ]);
    expect(erasures).toHaveLength(0);

    // Signed in through GitHub again just now: that confirms it.
    const fresh = { Authorization: `Bearer ${(await signInTokens(user)).access_token}` };
    const deleted = await api().delete('/api/v1/account').set(fresh).send({}).expect(202);
    expect(deleted.body.erasure_id).toEqual(expect.any(String));
    for (const credentials of [fresh, bearer, { 'X-API-Key': key }]) {
      await api().get('/api/v1/auth/me').set(credentials).expect(401);
    }
  });

  it('still asks a password account for its password, even right after a GitHub sign-in', async () => {
    const owner = await newUser(t);
    github.signInAs(githubUser(owner.email));
    const code = (await signIn()).searchParams.get('code');
    await api().post('/api/v1/auth/oauth/github/exchange').send({ code }).expect(409);
    const linked = await api()
      .post('/api/v1/auth/oauth/github/link')
      .send({ code, password: owner.password })
      .expect(200);
    const bearer = { Authorization: `Bearer ${linked.body.access_token}` };
    const missing = await api().delete('/api/v1/account').set(bearer).send({});
    expect({ status: missing.status, code: missing.body.code }).toEqual({
      status: 400,
      code: 'validation_failed',
    });
    const wrong = await api().delete('/api/v1/account').set(bearer).send({ password: 'not the password' });
    expect({ status: wrong.status, code: wrong.body.code }).toEqual({
      status: 401,
      code: 'invalid_credentials',
    });
    await api().get('/api/v1/auth/me').set(bearer).expect(200);
  });

  it('refuses a tampered state', async () => {
    github.signInAs(githubUser(`gh-${randomUUID().slice(0, 8)}@example.com`));
    const start = await api().post('/api/v1/auth/oauth/github/start').send({ redirect_uri: CLIENT_REDIRECT });
    const callback = await followRedirects(
      start.body.authorization_url as string,
      `${t.url}/api/v1/auth/oauth/github/callback`,
    );
    callback.searchParams.set('state', 'forged');
    const res = await api().get(callback.pathname + callback.search);
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'sso_state_invalid' });
  });
});
