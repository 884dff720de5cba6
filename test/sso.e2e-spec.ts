import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { TeamsService } from '../src/modules/teams/index.js';
import { FakeStripe } from './support/fake-stripe.js';
import { followRedirects, type IdpAccount, TestIdp } from './support/oidc-idp.js';
import { stripeEnv, subscribeToTeam } from './support/stripe-webhooks.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';

/**
 * Team single sign-on against a real OpenID provider (oidc-provider) in the test process,
 * driven browser-less: start, follow the provider's redirects (login and consent completed
 * programmatically), our callback, the client's one-time code traded for AuthTokens. Each
 * refusal names its code and provisions nothing (no account, no membership).
 */
describe('team single sign-on (OIDC)', () => {
  const stripe = new FakeStripe();
  const idp = new TestIdp();
  let t: TestApp;
  let callbackPrefix: string;
  const CLIENT_REDIRECT = 'http://127.0.0.1:51234/done';

  beforeAll(async () => {
    await stripe.start();
    t = await startTestApp({
      env: {
        ...stripeEnv(stripe),
        AUTH_RATE_LIMIT_PER_IP: '10000',
        SSO_REDIRECT_URIS: 'adiuva://auth/callback',
      },
    });
    callbackPrefix = `${t.url}/api/v1/auth/sso/callback`;
    await idp.start([callbackPrefix]);
  }, 120_000);
  afterAll(async () => {
    await t.close();
    await idp.stop();
    await stripe.stop();
  });

  const api = () => request(t.url);
  const sql = <T>(query: string, params: unknown[]) => t.app.get(DataSource).query<T>(query, params);
  const usersWithEmail = async (email: string) =>
    Number(
      (await sql<Array<{ n: string }>>('SELECT count(*) AS n FROM users WHERE email = $1', [email]))[0].n,
    );
  const membersOf = async (teamId: string) =>
    Number(
      (
        await sql<Array<{ n: string }>>('SELECT count(*) AS n FROM team_members WHERE team_id = $1', [teamId])
      )[0].n,
    );

  interface SsoTeam {
    owner: TestUser;
    teamId: string;
    domain: string;
  }

  /** An owner paying `seats` seats, their team, and its SSO through the test provider. */
  async function ssoTeam(seats: number, requireSso = false): Promise<SsoTeam> {
    const domain = `corp-${randomUUID().slice(0, 8)}.example`;
    const owner = await newUser(t, { email: `owner@${domain}` });
    await subscribeToTeam(t, stripe, owner.id, seats);
    const team = await t.app
      .get(TeamsService)
      .create({ id: owner.id, email: owner.email, role: 'user', tier: 'team', via: 'jwt' }, 'Acme');
    await api()
      .put(`/api/v1/teams/${team.id}/sso`)
      .set(owner.auth)
      .send({
        issuer: idp.issuer,
        client_id: idp.clientId,
        client_secret: idp.clientSecret,
        domains: [domain],
        require_sso: requireSso,
      })
      .expect(200);
    return { owner, teamId: team.id, domain };
  }

  const person = (domain: string, verified = true): IdpAccount => ({
    sub: randomUUID(),
    email: `ada-${randomUUID().slice(0, 6)}@${domain}`,
    email_verified: verified,
  });

  /** Start → provider → our callback; answers where our callback sent the browser. */
  async function signIn(
    email: string,
    options: { alterAuthorizationUrl?: (url: URL) => void; redirectUri?: string } = {},
  ): Promise<{ location: URL; callback: URL }> {
    const start = await api()
      .post('/api/v1/auth/sso/start')
      .send({ email, redirect_uri: options.redirectUri ?? CLIENT_REDIRECT })
      .expect(200);
    const authorization = new URL(start.body.authorization_url as string);
    options.alterAuthorizationUrl?.(authorization);
    const callback = await followRedirects(authorization.href, callbackPrefix);
    const res = await api()
      .get(callback.pathname + callback.search)
      .expect(302);
    return { location: new URL(res.headers.location), callback };
  }

  it('signs a new person in: account made without a password, team joined, code traded once for AuthTokens', async () => {
    const team = await ssoTeam(5);
    const ada = person(team.domain);
    idp.signInAs(ada);
    const { location } = await signIn(ada.email);
    expect(location.origin + location.pathname).toBe(CLIENT_REDIRECT);
    const code = location.searchParams.get('code')!;
    const tokens = await api()
      .post('/api/v1/auth/sso/exchange')
      .send({ code, device_name: 'laptop' })
      .expect(200);
    expect(tokens.body).toEqual(
      expect.objectContaining({
        access_token: expect.any(String),
        refresh_token: expect.any(String),
        token_type: 'bearer',
      }),
    );
    const me = await api()
      .get('/api/v1/auth/me')
      .set('Authorization', `Bearer ${tokens.body.access_token}`)
      .expect(200);
    expect(me.body.email).toBe(ada.email);
    expect(await membersOf(team.teamId)).toBe(2);
    // Single use.
    const again = await api().post('/api/v1/auth/sso/exchange').send({ code }).expect(400);
    expect(again.body.code).toBe('sso_code_invalid');
    // No password to sign in with.
    const login = await api()
      .post('/api/v1/auth/login')
      .send({ email: ada.email, password: 'anything at all' });
    expect(login.status).toBe(401);
    // The next sign-in finds the same account by its identity.
    const next = await signIn(ada.email);
    const second = await api()
      .post('/api/v1/auth/sso/exchange')
      .send({ code: next.location.searchParams.get('code') });
    expect(second.status).toBe(200);
    expect(
      (await api().get('/api/v1/auth/me').set('Authorization', `Bearer ${second.body.access_token}`)).body.id,
    ).toBe(me.body.id);
    expect(await usersWithEmail(ada.email)).toBe(1);
  });

  it('shows the connection to its owner without the secret; other people get 403 or 404', async () => {
    const team = await ssoTeam(5);
    const shown = await api().get(`/api/v1/teams/${team.teamId}/sso`).set(team.owner.auth).expect(200);
    expect(shown.body).toEqual({
      team_id: team.teamId,
      issuer: idp.issuer,
      client_id: idp.clientId,
      domains: [team.domain],
      require_sso: false,
      updated_at: expect.any(Number),
    });
    expect(JSON.stringify(shown.body)).not.toContain(idp.clientSecret);
    const stored = await sql<Array<{ s: string }>>(
      'SELECT client_secret_encrypted AS s FROM sso_connections WHERE team_id = $1',
      [team.teamId],
    );
    expect(stored[0].s).not.toContain(idp.clientSecret);
    expect(t.logs.text).not.toContain(idp.clientSecret);
    const outsider = await newUser(t);
    expect((await api().get(`/api/v1/teams/${team.teamId}/sso`).set(outsider.auth)).status).toBe(404);
    const member = await newUser(t);
    await t.app.get(TeamsService).addMember(team.teamId, member.id, 'member', 'invite');
    const put = await api()
      .put(`/api/v1/teams/${team.teamId}/sso`)
      .set(member.auth)
      .send({
        issuer: idp.issuer,
        client_id: 'x',
        client_secret: 'y',
        domains: ['z.example'],
        require_sso: true,
      });
    expect({ status: put.status, code: put.body.code }).toEqual({ status: 403, code: 'role_required' });
  });

  it('refuses a bad issuer (nothing saved) and a domain of another team (409)', async () => {
    const team = await ssoTeam(5);
    const bad = await api()
      .put(`/api/v1/teams/${team.teamId}/sso`)
      .set(team.owner.auth)
      .send({
        issuer: `${idp.issuer}/nope`,
        client_id: 'a',
        client_secret: 'b',
        domains: ['new.example'],
        require_sso: false,
      });
    expect({ status: bad.status, code: bad.body.code }).toEqual({ status: 400, code: 'sso_issuer_invalid' });
    expect((await api().get(`/api/v1/teams/${team.teamId}/sso`).set(team.owner.auth)).body.domains).toEqual([
      team.domain,
    ]);
    const other = await ssoTeam(5);
    const taken = await api()
      .put(`/api/v1/teams/${other.teamId}/sso`)
      .set(other.owner.auth)
      .send({
        issuer: idp.issuer,
        client_id: idp.clientId,
        client_secret: idp.clientSecret,
        domains: [team.domain],
        require_sso: false,
      });
    expect({ status: taken.status, code: taken.body.code }).toEqual({ status: 409, code: 'duplicate' });
  });

  it('refuses a redirect_uri that is not loopback, on the public origin or allowlisted', async () => {
    const team = await ssoTeam(5);
    const res = await api()
      .post('/api/v1/auth/sso/start')
      .send({ email: `x@${team.domain}`, redirect_uri: 'https://evil.example/steal' });
    expect({ status: res.status, code: res.body.code }).toEqual({
      status: 400,
      code: 'redirect_uri_not_allowed',
    });
    await api()
      .post('/api/v1/auth/sso/start')
      .send({ email: `x@${team.domain}`, redirect_uri: 'adiuva://auth/callback' })
      .expect(200);
  });

  it('refuses a tampered state and a replayed callback, provisioning nothing', async () => {
    const team = await ssoTeam(5);
    const ada = person(team.domain);
    idp.signInAs(ada);
    const start = await api()
      .post('/api/v1/auth/sso/start')
      .send({ email: ada.email, redirect_uri: CLIENT_REDIRECT });
    const callback = await followRedirects(start.body.authorization_url as string, callbackPrefix);
    const tampered = new URL(callback.href);
    tampered.searchParams.set('state', `${callback.searchParams.get('state')}x`);
    const refused = await api().get(tampered.pathname + tampered.search);
    expect({ status: refused.status, code: refused.body.code }).toEqual({
      status: 400,
      code: 'sso_state_invalid',
    });
    expect(await usersWithEmail(ada.email)).toBe(0);
    await api()
      .get(callback.pathname + callback.search)
      .expect(302);
    const replayed = await api().get(callback.pathname + callback.search);
    expect({ status: replayed.status, code: replayed.body.code }).toEqual({
      status: 400,
      code: 'sso_state_invalid',
    });
  });

  const refusals: Array<[string, (idp: TestIdp) => void, RegExp]> = [
    [
      'from another issuer',
      (p) => p.tamperNextIdToken({ claims: (c) => ({ ...c, iss: 'https://other-idp.example' }) }),
      /issuer/,
    ],
    [
      'for another audience',
      (p) => p.tamperNextIdToken({ claims: (c) => ({ ...c, aud: 'another-client' }) }),
      /audience/,
    ],
    [
      'that expired',
      (p) =>
        p.tamperNextIdToken({
          claims: (c) => ({ ...c, iat: Number(c.iat) - 7200, exp: Number(c.iat) - 3600 }),
        }),
      /expired/,
    ],
    [
      'signed with a key not in the JWKS',
      (p) => p.tamperNextIdToken({ claims: (c) => c, foreignKey: true }),
      /signature/,
    ],
  ];
  it.each(refusals)(
    'refuses an ID token %s with id_token_invalid, provisioning nothing',
    async (_name, tamper, reason) => {
      const team = await ssoTeam(5);
      const ada = person(team.domain);
      idp.signInAs(ada);
      tamper(idp);
      const { location } = await signIn(ada.email);
      expect(location.searchParams.get('error')).toBe('id_token_invalid');
      expect(location.searchParams.get('error_description')).toMatch(reason);
      expect(location.searchParams.get('code')).toBeNull();
      expect(await usersWithEmail(ada.email)).toBe(0);
      expect(await membersOf(team.teamId)).toBe(1);
    },
  );

  it('refuses a wrong nonce with id_token_invalid', async () => {
    const team = await ssoTeam(5);
    const ada = person(team.domain);
    idp.signInAs(ada);
    const { location } = await signIn(ada.email, {
      alterAuthorizationUrl: (url) => url.searchParams.set('nonce', 'a-nonce-this-sign-in-never-made'),
    });
    expect(location.searchParams.get('error')).toBe('id_token_invalid');
    expect(location.searchParams.get('error_description')).toMatch(/nonce/);
    expect(await usersWithEmail(ada.email)).toBe(0);
  });

  it('refuses an email the provider does not vouch for (email_unverified)', async () => {
    const team = await ssoTeam(5);
    const ada = person(team.domain, false);
    idp.signInAs(ada);
    const { location } = await signIn(ada.email);
    expect(location.searchParams.get('error')).toBe('email_unverified');
    expect(await usersWithEmail(ada.email)).toBe(0);
    expect(await membersOf(team.teamId)).toBe(1);
  });

  it('refuses a new person when every seat is taken (seats_exhausted), provisioning nothing', async () => {
    const team = await ssoTeam(1);
    const ada = person(team.domain);
    idp.signInAs(ada);
    const { location } = await signIn(ada.email);
    expect(location.searchParams.get('error')).toBe('seats_exhausted');
    expect(await usersWithEmail(ada.email)).toBe(0);
    expect(await membersOf(team.teamId)).toBe(1);
  });

  it('lets an exchange code expire', async () => {
    const team = await ssoTeam(5);
    const ada = person(team.domain);
    idp.signInAs(ada);
    const { location } = await signIn(ada.email);
    await sql("UPDATE sign_in_exchange_codes SET expires_at = now() - interval '1 second'", []);
    const res = await api()
      .post('/api/v1/auth/sso/exchange')
      .send({ code: location.searchParams.get('code') });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'sso_code_invalid' });
  });

  it('with require_sso, refuses password login and new API keys, and links an existing password account once', async () => {
    const team = await ssoTeam(5, true);
    const bob = await newUser(t, { email: `bob@${team.domain}` });
    const login = await api().post('/api/v1/auth/login').send({ email: bob.email, password: bob.password });
    expect({ status: login.status, code: login.body.code }).toEqual({ status: 403, code: 'sso_required' });
    const key = await api().post('/api/v1/auth/api-keys').set(bob.auth).send({ name: 'ci' });
    expect({ status: key.status, code: key.body.code }).toEqual({ status: 403, code: 'sso_required' });
    // Another domain is not touched.
    const other = await newUser(t);
    await api().post('/api/v1/auth/login').send({ email: other.email, password: other.password }).expect(200);

    idp.signInAs({ sub: randomUUID(), email: bob.email, email_verified: true });
    const { location } = await signIn(bob.email);
    const code = location.searchParams.get('code')!;
    const exchange = await api().post('/api/v1/auth/sso/exchange').send({ code });
    expect({ status: exchange.status, code: exchange.body.code }).toEqual({
      status: 409,
      code: 'link_required',
    });
    const wrong = await api().post('/api/v1/auth/sso/link').send({ code, password: 'not the password' });
    expect({ status: wrong.status, code: wrong.body.code }).toEqual({
      status: 401,
      code: 'invalid_credentials',
    });
    expect(await membersOf(team.teamId)).toBe(1);
    const linked = await api()
      .post('/api/v1/auth/sso/link')
      .send({ code, password: bob.password })
      .expect(200);
    const me = await api()
      .get('/api/v1/auth/me')
      .set('Authorization', `Bearer ${linked.body.access_token}`)
      .expect(200);
    expect(me.body.id).toBe(bob.id);
    expect(await membersOf(team.teamId)).toBe(2);
    const audit = await sql<Array<{ event_type: string }>>(
      "SELECT event_type FROM audit_log WHERE event_type IN ('sso.configured', 'sso.sign_in', 'auth.identity_linked') AND (subject_id = $1 OR subject_id = $2)",
      [team.teamId, bob.id],
    );
    expect(new Set(audit.map((row) => row.event_type))).toEqual(
      new Set(['sso.configured', 'sso.sign_in', 'auth.identity_linked']),
    );
  });
});
