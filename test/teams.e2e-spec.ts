import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { FakeStripe } from './support/fake-stripe.js';
import { deliverStripeEvent, stripeEnv, subscribeToTeam } from './support/stripe-webhooks.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';
import { unzip } from './support/zip.js';
import { TeamsAccountData } from '../src/modules/teams/teams.account-data.js';

const INVITE_SECRET = 'invite-webhook-secret-0123456789';

/** A local endpoint standing in for the operator's mailer: keeps each POST with its signature header. */
async function mailer(): Promise<{
  url: string;
  received: Array<{ body: string; signature: string }>;
  server: Server;
}> {
  const received: Array<{ body: string; signature: string }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        body: Buffer.concat(chunks).toString('utf8'),
        signature: String(req.headers['x-adiuva-signature']),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/invites`, received, server };
}

describe('teams', () => {
  const fake = new FakeStripe();
  let t: TestApp;
  let db: DataSource;
  let inbox: Awaited<ReturnType<typeof mailer>>;

  beforeAll(async () => {
    await fake.start();
    inbox = await mailer();
    t = await startTestApp({
      env: {
        ...stripeEnv(fake),
        PUBLIC_URL: 'https://api.example.com',
        TEAM_INVITE_WEBHOOK_URL: inbox.url,
        TEAM_INVITE_WEBHOOK_SECRET: INVITE_SECRET,
      },
    });
    db = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
    inbox.server.closeAllConnections();
    await new Promise((resolve) => inbox.server.close(resolve));
  });

  const api = () => request(t.url);
  const tierOf = async (u: TestUser) =>
    (await api().get('/api/v1/auth/me').set(u.auth).expect(200)).body.tier as string;

  /** A Team subscriber paying `seats` seats, and the team they created. */
  async function team(seats: number): Promise<{ owner: TestUser; id: string; subscription: string }> {
    const owner = await newUser(t);
    const subscription = await subscribeToTeam(t, fake, owner.id, seats);
    const res = await api().post('/api/v1/teams').set(owner.auth).send({ name: 'Acme' }).expect(201);
    return { owner, id: res.body.id as string, subscription };
  }

  const invite = (teamId: string, by: TestUser, email: string, role = 'member') =>
    api().post(`/api/v1/teams/${teamId}/invites`).set(by.auth).send({ email, role });

  /** A new account invited and joined with `role`. */
  async function member(teamId: string, by: TestUser, role = 'member'): Promise<TestUser> {
    const u = await newUser(t);
    const created = await invite(teamId, by, u.email, role).expect(201);
    await api().post(`/api/v1/teams/invites/${created.body.token}/accept`).set(u.auth).expect(200);
    return u;
  }

  it('creates a team only on the Team tier (403 tier_required, required_tier team), the creator its owner', async () => {
    const pro = await newUser(t, { tier: 'pro' });
    const refused = await api().post('/api/v1/teams').set(pro.auth).send({ name: 'Nope' }).expect(403);
    expect([refused.body.code, refused.body.required_tier]).toEqual(['tier_required', 'team']);
    expect((await api().get('/api/v1/teams/mine').set(pro.auth).expect(200)).body.teams).toEqual([]);

    const { owner, id } = await team(3);
    const got = await api().get(`/api/v1/teams/${id}`).set(owner.auth).expect(200);
    expect(got.body).toMatchObject({
      id,
      name: 'Acme',
      role: 'owner',
      seats: 3,
      members: 1,
      pending_invites: 0,
    });
    const mine = await api().get('/api/v1/teams/mine').set(owner.auth).expect(200);
    expect(mine.body.teams.map((x: { id: string; role: string }) => [x.id, x.role])).toEqual([[id, 'owner']]);
    const again = await api().post('/api/v1/teams').set(owner.auth).send({ name: 'Second' }).expect(409);
    expect(again.body.code).toBe('duplicate');
  });

  it('counts pending invites against the seats: inviting past them → 402 seats_exhausted; revoking frees one', async () => {
    const { owner, id } = await team(2);
    const first = await invite(id, owner, 'first@example.com').expect(201);
    expect(first.body.accept_url).toBe(`https://api.example.com/api/v1/teams/invites/${first.body.token}`);
    const refused = await invite(id, owner, 'second@example.com').expect(402);
    expect(refused.body).toMatchObject({ code: 'seats_exhausted', seats: 2, members: 1, pending_invites: 1 });
    const listed = await api().get(`/api/v1/teams/${id}/invites`).set(owner.auth).expect(200);
    expect(listed.body).toMatchObject({ total: 1, page: 1, limit: 20 });
    expect(listed.body.items[0]).not.toHaveProperty('token');
    await api().delete(`/api/v1/teams/${id}/invites/${first.body.id}`).set(owner.auth).expect(204);
    await invite(id, owner, 'second@example.com').expect(201);
    // Only the hash is stored.
    const [stored] = await db.query('SELECT token_hash FROM team_invites WHERE id = $1', [first.body.id]);
    expect(stored.token_hash).not.toContain(first.body.token);
  });

  it('sends a seat change to Stripe with the new quantity, and keeps the count the webhook reports', async () => {
    const { owner, id, subscription } = await team(2);
    const changed = await api()
      .patch(`/api/v1/teams/${id}/seats`)
      .set(owner.auth)
      .send({ seats: 5 })
      .expect(200);
    expect(changed.body).toEqual({ seats: 5, members: 1, pending_invites: 0 });
    const updates = fake.requestsTo('POST', `/v1/subscriptions/${subscription}`);
    expect(updates).toHaveLength(1);
    expect(updates[0].form).toMatchObject({
      'items[0][quantity]': '5',
      proration_behavior: 'create_prorations',
    });
    expect(
      (fake.subscription(subscription).items as { data: Array<{ quantity: number }> }).data[0].quantity,
    ).toBe(5);

    // Stripe's own change (the customer portal, support) arrives by webhook and is the count from then on.
    const later = fake.subscription(subscription);
    (later.items as { data: Array<{ quantity: number }> }).data[0].quantity = 7;
    await deliverStripeEvent(
      t,
      'customer.subscription.updated',
      later,
      Math.floor(Date.now() / 1000) + 5,
    ).expect(200);
    expect((await api().get(`/api/v1/teams/${id}`).set(owner.auth).expect(200)).body.seats).toBe(7);
  });

  it('refuses seats below the members (409 seats_in_use) and sends Stripe nothing', async () => {
    const { owner, id, subscription } = await team(3);
    await member(id, owner);
    const refused = await api()
      .patch(`/api/v1/teams/${id}/seats`)
      .set(owner.auth)
      .send({ seats: 1 })
      .expect(409);
    expect(refused.body).toMatchObject({ code: 'seats_in_use', members: 2 });
    expect(fake.requestsTo('POST', `/v1/subscriptions/${subscription}`)).toHaveLength(0);
    const bad = await api().patch(`/api/v1/teams/${id}/seats`).set(owner.auth).send({ seats: 0 }).expect(400);
    expect(bad.body.code).toBe('validation_failed');
  });

  it('gives a member the Team tier, and a removed member their own tier on the next request', async () => {
    const { owner, id } = await team(3);
    const joined = await member(id, owner);
    expect(await tierOf(joined)).toBe('team');
    const members = await api().get(`/api/v1/teams/${id}/members`).set(joined.auth).expect(200);
    expect(members.body.items.map((m: { email: string; role: string }) => [m.email, m.role])).toEqual([
      [owner.email, 'owner'],
      [joined.email, 'member'],
    ]);
    await api().delete(`/api/v1/teams/${id}/members/${joined.id}`).set(owner.auth).expect(204);
    expect(await tierOf(joined)).toBe('free');
    await api().get(`/api/v1/teams/${id}`).set(joined.auth).expect(404);
    const [audit] = await db.query(
      `SELECT count(*)::int AS n FROM audit_log WHERE event_type = 'tier.changed' AND subject_id = $1`,
      [joined.id],
    );
    expect(audit.n).toBe(2);
  });

  it('accepts an invite once, for the invited email only, and not after it expired', async () => {
    const { owner, id } = await team(5);
    const invited = await newUser(t);
    const other = await newUser(t);
    const sentAt = Date.now();
    const created = await invite(id, owner, invited.email.toUpperCase(), 'admin').expect(201);
    const answeredAt = Date.now();
    const token = created.body.token as string;

    const preview = await api().get(`/api/v1/teams/invites/${token}`).expect(200);
    expect(preview.body).toEqual({
      team_name: 'Acme',
      inviter_email: owner.email,
      email: invited.email,
      role: 'admin',
      expires_at: created.body.expires_at,
    });
    // Seven days after a moment between the request's sending and its answer.
    expect(created.body.expires_at).toBeGreaterThanOrEqual(sentAt + 7 * 24 * 3600 * 1000);
    expect(created.body.expires_at).toBeLessThanOrEqual(answeredAt + 7 * 24 * 3600 * 1000);

    const wrong = await api().post(`/api/v1/teams/invites/${token}/accept`).set(other.auth).expect(403);
    expect(wrong.body.code).toBe('email_mismatch');
    const joined = await api().post(`/api/v1/teams/invites/${token}/accept`).set(invited.auth).expect(200);
    expect(joined.body).toMatchObject({ id, role: 'admin', members: 2, pending_invites: 0 });
    await api().post(`/api/v1/teams/invites/${token}/accept`).set(invited.auth).expect(404);
    await api().get(`/api/v1/teams/invites/${token}`).expect(404);

    const late = await newUser(t);
    const expiring = await invite(id, owner, late.email).expect(201);
    await db.query(`UPDATE team_invites SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      expiring.body.id,
    ]);
    await api().get(`/api/v1/teams/invites/${expiring.body.token}`).expect(404);
    await api().post(`/api/v1/teams/invites/${expiring.body.token}/accept`).set(late.auth).expect(404);
    // An expired invite holds no seat and can be sent again.
    await invite(id, owner, late.email).expect(201);
  });

  it('delivers a new invite to TEAM_INVITE_WEBHOOK_URL, signed', async () => {
    const { owner, id } = await team(2);
    const created = await invite(id, owner, 'mailed@example.com').expect(201);
    for (let i = 0; i < 100 && !inbox.received.some((r) => r.body.includes(created.body.id)); i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const sent = inbox.received.find((r) => r.body.includes(created.body.id))!;
    const [, timestamp, signature] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sent.signature)!;
    expect(signature).toBe(
      createHmac('sha256', INVITE_SECRET).update(`${timestamp}.${sent.body}`).digest('hex'),
    );
    expect(JSON.parse(sent.body)).toMatchObject({
      event: 'team.invite_created',
      team: { id, name: 'Acme' },
      invite: { email: 'mailed@example.com', accept_url: created.body.accept_url },
    });
  });

  it('keeps the last owner (and the paying account) in the team; a member may leave', async () => {
    const { owner, id } = await team(4);
    const leaver = await member(id, owner);
    const lastOwner = await api()
      .delete(`/api/v1/teams/${id}/members/${owner.id}`)
      .set(owner.auth)
      .expect(409);
    expect(lastOwner.body.code).toBe('last_owner');
    const demote = await api()
      .patch(`/api/v1/teams/${id}/members/${owner.id}`)
      .set(owner.auth)
      .send({ role: 'admin' });
    expect([demote.status, demote.body.code]).toEqual([409, 'last_owner']);
    await api().delete(`/api/v1/teams/${id}/members/${leaver.id}`).set(leaver.auth).expect(204);
    expect(await tierOf(leaver)).toBe('free');
    const second = await member(id, owner, 'owner');
    const payer = await api().delete(`/api/v1/teams/${id}/members/${owner.id}`).set(second.auth).expect(409);
    expect(payer.body.code).toBe('last_owner');
  });

  it('lets admins manage members but not owners', async () => {
    const { owner, id } = await team(5);
    const admin = await member(id, owner, 'admin');
    const plain = await member(id, owner);
    await api()
      .patch(`/api/v1/teams/${id}/members/${plain.id}`)
      .set(admin.auth)
      .send({ role: 'admin' })
      .expect(200);
    const makeOwner = await api()
      .patch(`/api/v1/teams/${id}/members/${plain.id}`)
      .set(admin.auth)
      .send({ role: 'owner' });
    expect([makeOwner.status, makeOwner.body.code]).toEqual([403, 'role_required']);
    const demoteOwner = await api()
      .patch(`/api/v1/teams/${id}/members/${owner.id}`)
      .set(admin.auth)
      .send({ role: 'member' });
    expect([demoteOwner.status, demoteOwner.body.code]).toEqual([403, 'role_required']);
    const removeOwner = await api().delete(`/api/v1/teams/${id}/members/${owner.id}`).set(admin.auth);
    expect([removeOwner.status, removeOwner.body.code]).toEqual([403, 'role_required']);
    const ownerInvite = await invite(id, admin, 'boss@example.com', 'owner');
    expect([ownerInvite.status, ownerInvite.body.code]).toEqual([403, 'role_required']);
  });

  it('answers 404 to a non-member and 403 role_required to a member without the role, on every team route', async () => {
    const { owner, id } = await team(5);
    const plain = await member(id, owner);
    const admin = await member(id, owner, 'admin');
    const outsider = await newUser(t, { tier: 'team' });
    const pending = await invite(id, owner, 'pending@example.com').expect(201);
    const routes: Array<{
      method: 'get' | 'post' | 'patch' | 'delete';
      path: string;
      body?: object;
      member: number;
      admin: number;
    }> = [
      { method: 'get', path: `/teams/${id}`, member: 200, admin: 200 },
      { method: 'get', path: `/teams/${id}/members`, member: 200, admin: 200 },
      {
        method: 'patch',
        path: `/teams/${id}/members/${owner.id}`,
        body: { role: 'member' },
        member: 403,
        admin: 403,
      },
      { method: 'delete', path: `/teams/${id}/members/${owner.id}`, member: 403, admin: 403 },
      { method: 'patch', path: `/teams/${id}/seats`, body: { seats: 9 }, member: 403, admin: 403 },
      {
        method: 'post',
        path: `/teams/${id}/invites`,
        body: { email: 'x@example.com', role: 'member' },
        member: 403,
        admin: 201,
      },
      { method: 'get', path: `/teams/${id}/invites`, member: 403, admin: 200 },
      { method: 'delete', path: `/teams/${id}/invites/${pending.body.id}`, member: 403, admin: 204 },
    ];
    const answers: string[] = [];
    for (const route of routes) {
      for (const [who, u] of [
        ['outsider', outsider],
        ['member', plain],
        ['admin', admin],
      ] as const) {
        const res = await api()
          [route.method](`/api/v1${route.path}`)
          .set(u.auth)
          .send(route.body ?? {});
        answers.push(
          `${route.method} ${route.path.replace(id, ':id')} ${who} ${res.status} ${res.status >= 400 ? res.body.code : ''}`,
        );
      }
    }
    const expected = routes.flatMap((route) => {
      const name = `${route.method} ${route.path.replace(id, ':id')}`;
      const code = (status: number) => (status === 403 ? 'role_required' : '');
      return [
        `${name} outsider 404 not_found`,
        `${name} member ${route.member} ${code(route.member)}`,
        `${name} admin ${route.admin} ${code(route.admin)}`,
      ];
    });
    expect(answers).toEqual(expected);
    // An unknown team is the same 404 as someone else's.
    const unknown = await api().get(`/api/v1/teams/${randomUUID()}`).set(owner.auth).expect(404);
    expect(unknown.body.code).toBe('not_found');
  });

  it('gives one of two concurrent accepts for the last seat the seat, the other 402 seats_exhausted', async () => {
    const { owner, id } = await team(3);
    const [a, b] = await Promise.all([newUser(t), newUser(t)]);
    const tokens = [
      (await invite(id, owner, a.email).expect(201)).body.token as string,
      (await invite(id, owner, b.email).expect(201)).body.token as string,
    ];
    // Stripe lowers the seats to 2 (both invites were sent while there were 3): one seat left for two invites.
    await api().patch(`/api/v1/teams/${id}/seats`).set(owner.auth).send({ seats: 2 }).expect(200);
    const statuses = await Promise.all(
      [a, b].map((u, i) => api().post(`/api/v1/teams/invites/${tokens[i]}/accept`).set(u.auth)),
    );
    expect(statuses.map((res) => `${res.status} ${res.body.code ?? ''}`).sort()).toEqual([
      '200 ',
      '402 seats_exhausted',
    ]);
    expect((await api().get(`/api/v1/teams/${id}`).set(owner.auth).expect(200)).body).toMatchObject({
      seats: 2,
      members: 2,
    });
  });

  describe('account export and erasure', () => {
    let admin: TestUser;
    beforeAll(async () => {
      admin = await newUser(t, { role: 'admin' });
    });

    /** Deletes the account (as its owner does) and answers the scheduled erasure's id. */
    async function requestErasure(u: TestUser): Promise<string> {
      const deleted = await api()
        .delete('/api/v1/account')
        .set(u.auth)
        .send({ password: u.password })
        .expect(202);
      return deleted.body.erasure_id as string;
    }

    /** Runs an erasure now, as an admin does, and expects it to complete. */
    async function runErasure(erasureId: string): Promise<void> {
      const done = await api().post(`/api/v1/admin/erasures/${erasureId}/run`).set(admin.auth).expect(200);
      expect(done.body).toMatchObject({ status: 'completed', last_error: null });
      expect(Object.keys(done.body.progress)).toContain('teams');
    }

    const erase = async (u: TestUser) => runErasure(await requestErasure(u));

    /** account.json of a finished export of `u`'s account. */
    async function exportedAccount(u: TestUser): Promise<Record<string, unknown>> {
      const created = await api().post('/api/v1/account/export').set(u.auth).send({}).expect(202);
      let status: Record<string, unknown>;
      do {
        status = (await api().get(`/api/v1/account/export/${created.body.id}`).set(u.auth).expect(200)).body;
        if (status.status === 'queued' || status.status === 'running')
          await new Promise((resolve) => setTimeout(resolve, 50));
      } while (status.status === 'queued' || status.status === 'running');
      expect(status.status).toBe('ready');
      // PUBLIC_URL names another host here: the signed link's path and query, against this server.
      const link = new URL(status.download_url as string);
      const zip = await api()
        .get(link.pathname + link.search)
        .buffer(true)
        .parse((res, cb) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => cb(null, Buffer.concat(chunks)));
        })
        .expect(200);
      const files = await unzip(zip.body as Buffer);
      return JSON.parse(files.get('account.json')!.toString()) as Record<string, unknown>;
    }

    const membersOf = async (teamId: string, by: TestUser) =>
      (await api().get(`/api/v1/teams/${teamId}/members`).set(by.auth).expect(200)).body.items.map(
        (m: { user_id: string; role: string }) => `${m.user_id} ${m.role}`,
      );

    /** Rows of the teams' tables that name `needle` anywhere (id or email). */
    async function teamRowsNaming(needle: string): Promise<number> {
      const [row] = await db.query(
        `SELECT (SELECT count(*) FROM teams x WHERE strpos(lower(x::text), lower($1)) > 0)
              + (SELECT count(*) FROM team_members x WHERE strpos(lower(x::text), lower($1)) > 0)
              + (SELECT count(*) FROM team_invites x WHERE strpos(lower(x::text), lower($1)) > 0) AS n`,
        [needle],
      );
      return Number(row.n);
    }

    const auditOf = async (teamId: string, eventType: string) =>
      db.query<Array<{ reason: string; data: Record<string, unknown> }>>(
        `SELECT reason, data FROM audit_log WHERE subject_id = $1 AND event_type = $2 ORDER BY created_at, id`,
        [teamId, eventType],
      );

    it('exports the memberships (and which team the account pays for) and its invites, never a token hash', async () => {
      const { owner, id } = await team(4);
      const admin1 = await member(id, owner, 'admin');
      const sent = await invite(id, admin1, 'friend@example.com').expect(201);
      const other = await team(2);
      await invite(other.id, other.owner, admin1.email).expect(201);

      const account = await exportedAccount(admin1);
      const teams = account.teams as Record<string, Array<Record<string, unknown>>>;
      expect(teams.memberships).toEqual([
        {
          team_id: id,
          name: 'Acme',
          role: 'admin',
          joined_via: 'invite',
          joined_at: expect.any(Number),
          pays_for_team: false,
        },
      ]);
      expect(teams.invites_sent).toEqual([
        expect.objectContaining({
          id: sent.body.id,
          team_id: id,
          email: 'friend@example.com',
          role: 'member',
        }),
      ]);
      expect(teams.invites_received.map((i) => [i.team_id, i.accepted_at === null])).toEqual([
        [id, false],
        [other.id, true],
      ]);
      expect(JSON.stringify(teams)).not.toMatch(/token|tinv_/);

      const owners = (await exportedAccount(owner)).teams as Record<string, Array<Record<string, unknown>>>;
      expect(owners.memberships).toEqual([
        expect.objectContaining({ team_id: id, role: 'owner', pays_for_team: true }),
      ]);
    });

    it('erasing a member takes them out of the team and deletes the invites they sent and received', async () => {
      const { owner, id } = await team(5);
      const leaving = await member(id, owner, 'admin');
      const stays = await member(id, owner);
      await invite(id, leaving, 'sent-by-leaving@example.com').expect(201);
      const other = await team(2);
      await invite(other.id, other.owner, leaving.email).expect(201);
      expect((await api().get(`/api/v1/teams/${id}`).set(owner.auth).expect(200)).body).toMatchObject({
        members: 3,
        pending_invites: 1,
      });

      await erase(leaving);
      expect(await membersOf(id, owner)).toEqual([`${owner.id} owner`, `${stays.id} member`]);
      expect((await api().get(`/api/v1/teams/${id}`).set(owner.auth).expect(200)).body).toMatchObject({
        role: 'owner',
        members: 2,
        pending_invites: 0,
      });
      expect(
        (await api().get(`/api/v1/teams/${other.id}/invites`).set(other.owner.auth).expect(200)).body.total,
      ).toBe(0);
      expect(await teamRowsNaming(leaving.id)).toBe(0);
      expect(await teamRowsNaming(leaving.email)).toBe(0);
      expect(await tierOf(stays)).toBe('team');
      const erased = await auditOf(id, 'team.member_erased');
      expect(erased).toEqual([
        expect.objectContaining({ data: { pseudonym: expect.any(String), role: 'admin' } }),
      ]);
    });

    it('erasing the only owner, who pays, makes the longest-standing admin owner and payer; their subscription gives the seats', async () => {
      const { owner, id } = await team(4);
      const plain = await member(id, owner);
      const first = await member(id, owner, 'admin');
      const second = await member(id, owner, 'admin');
      expect(await tierOf(plain)).toBe('team');

      await erase(owner);
      const after = await api().get(`/api/v1/teams/${id}`).set(first.auth).expect(200);
      // The erased payer's subscription is gone: no paid seats, every member on their own tier at once.
      expect(after.body).toMatchObject({ role: 'owner', billing_user_id: first.id, seats: 0, members: 3 });
      expect(await membersOf(id, first)).toEqual([
        `${first.id} owner`,
        `${second.id} admin`,
        `${plain.id} member`,
      ]);
      expect(await tierOf(plain)).toBe('free');
      expect((await auditOf(id, 'team.member_role_changed')).map((e) => e.data)).toEqual([
        { user_id: first.id, from: 'admin', to: 'owner' },
      ]);
      expect(await auditOf(id, 'team.billing_changed')).toHaveLength(1);

      // The new owner manages members and seats: inviting needs seats, and seats need their own subscription.
      await api()
        .patch(`/api/v1/teams/${id}/members/${second.id}`)
        .set(first.auth)
        .send({ role: 'member' })
        .expect(200);
      expect((await invite(id, first, 'next@example.com').expect(402)).body.code).toBe('seats_exhausted');
      const unpaid = await api()
        .patch(`/api/v1/teams/${id}/seats`)
        .set(first.auth)
        .send({ seats: 5 })
        .expect(402);
      expect(unpaid.body.code).toBe('payment_required');
      await subscribeToTeam(t, fake, first.id, 3);
      expect((await api().get(`/api/v1/teams/${id}`).set(first.auth).expect(200)).body.seats).toBe(3);
      expect(await tierOf(plain)).toBe('team');
      await api().patch(`/api/v1/teams/${id}/seats`).set(first.auth).send({ seats: 5 }).expect(200);
      await invite(id, first, 'next@example.com').expect(201);
    });

    it('dissolves a team whose owner is erased with nobody else in it, its invites with it', async () => {
      const { owner, id } = await team(3);
      await invite(id, owner, 'never-joined@example.com').expect(201);
      await erase(owner);
      const [left] = await db.query(
        `SELECT (SELECT count(*) FROM teams WHERE id = $1) + (SELECT count(*) FROM team_invites WHERE team_id = $1)
              + (SELECT count(*) FROM team_members WHERE team_id = $1) AS n`,
        [id],
      );
      expect(Number(left.n)).toBe(0);
      expect(await auditOf(id, 'team.dissolved')).toEqual([
        expect.objectContaining({ data: { pseudonym: expect.any(String), members_removed: 0 } }),
      ]);
    });

    it('keeps a pending erasure’s seat (a restore brings the membership back); erasing twice changes nothing more', async () => {
      const { owner, id } = await team(2);
      const pending = await member(id, owner, 'admin');
      await requestErasure(pending);
      // Disabled, not erased: the seat stays taken.
      expect((await invite(id, owner, 'waiting@example.com').expect(402)).body).toMatchObject({
        code: 'seats_exhausted',
        members: 2,
      });
      await api()
        .post('/api/v1/account/restore')
        .send({ email: pending.email, password: pending.password })
        .expect(200);
      expect(await membersOf(id, owner)).toEqual([`${owner.id} owner`, `${pending.id} admin`]);
      // Its sessions were revoked with the deletion request: signed in again.
      const signedIn = await api()
        .post('/api/v1/auth/login')
        .send({ email: pending.email, password: pending.password })
        .expect(200);
      const restored = { ...pending, auth: { Authorization: `Bearer ${signedIn.body.access_token}` } };

      // The owner (and payer) is in two teams: theirs, with an admin, and another as a member.
      const elsewhere = await team(3);
      await api()
        .post(
          `/api/v1/teams/invites/${(await invite(elsewhere.id, elsewhere.owner, owner.email).expect(201)).body.token}/accept`,
        )
        .set(owner.auth)
        .expect(200);
      const erasureId = await requestErasure(owner);
      const listed = await api().get('/api/v1/admin/erasures').set(admin.auth).expect(200);
      const { pseudonym } = listed.body.items.find((e: { id: string }) => e.id === erasureId);
      // The teams participant run again and again (as after a crash), then the erasure in full.
      const participant = t.app.get(TeamsAccountData);
      const account = { userId: owner.id, email: owner.email, pseudonym: pseudonym as string };
      await participant.erase(account);
      await participant.erase(account);
      await runErasure(erasureId);

      expect(await membersOf(id, restored)).toEqual([`${pending.id} owner`]);
      expect(await membersOf(elsewhere.id, elsewhere.owner)).toEqual([`${elsewhere.owner.id} owner`]);
      expect(await auditOf(id, 'team.billing_changed')).toHaveLength(1);
      expect(await auditOf(id, 'team.member_role_changed')).toHaveLength(1);
      expect(await auditOf(id, 'team.member_erased')).toHaveLength(1);
      expect(await auditOf(elsewhere.id, 'team.member_erased')).toHaveLength(1);
      expect(await teamRowsNaming(owner.id)).toBe(0);
    });
  });
});
