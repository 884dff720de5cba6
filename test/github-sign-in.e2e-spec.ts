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
