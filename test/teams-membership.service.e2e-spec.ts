import request from 'supertest';
import { AppException } from '../src/common/errors/app.exception.js';
import { TeamsService } from '../src/modules/teams/index.js';
import { FakeStripe } from './support/fake-stripe.js';
import { stripeEnv, subscribeToTeam } from './support/stripe-webhooks.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';

/**
 * The membership surface other modules call (single sign-on provisions members
 * through it), on a real database: seats counted under the team's lock, roles, 404 for outsiders.
 */
describe('teams membership, as a service', () => {
  const fake = new FakeStripe();
  let t: TestApp;
  let teams: TeamsService;
  beforeAll(async () => {
    await fake.start();
    t = await startTestApp({ env: stripeEnv(fake) });
    teams = t.app.get(TeamsService);
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });

  /** An owner paying `seats` seats, and their team. */
  async function teamOf(seats: number): Promise<{ owner: TestUser; teamId: string }> {
    const owner = await newUser(t);
    await subscribeToTeam(t, fake, owner.id, seats);
    const team = await teams.create(
      { id: owner.id, email: owner.email, role: 'user', tier: 'team', via: 'jwt' },
      'Acme',
    );
    return { owner, teamId: team.id };
  }

  const codeOf = async (promise: Promise<unknown>) =>
    promise.then(
      () => 'ok',
      (err: unknown) => (err instanceof AppException ? `${err.getStatus()} ${err.appCode}` : String(err)),
    );

  it('adds a member once, within the seats, and refuses past them with 402 seats_exhausted', async () => {
    const { owner, teamId } = await teamOf(2);
    const first = await newUser(t);
    const second = await newUser(t);
    expect(await teams.addMember(teamId, first.id, 'member', 'invite')).toEqual({ added: true });
    expect(await teams.addMember(teamId, first.id, 'admin', 'sso')).toEqual({ added: false });
    expect(await codeOf(teams.addMember(teamId, second.id, 'member', 'sso'))).toBe('402 seats_exhausted');
    expect(await teams.roleOf(teamId, first.id)).toBe('member');
    expect(await teams.roleOf(teamId, second.id)).toBeNull();
    expect((await teams.findTeam(teamId))?.billingUserId).toBe(owner.id);
  });

  it('gives exactly one of two concurrent joins the last seat', async () => {
    const { teamId } = await teamOf(2);
    const [a, b] = await Promise.all([newUser(t), newUser(t)]);
    const outcomes = await Promise.all([
      codeOf(teams.addMember(teamId, a.id, 'member', 'sso')),
      codeOf(teams.addMember(teamId, b.id, 'member', 'sso')),
    ]);
    expect(outcomes.sort()).toEqual(['402 seats_exhausted', 'ok']);
  });

  it('answers 404 to a non-member and an unknown team, 403 role_required to a member without the role', async () => {
    const { owner, teamId } = await teamOf(3);
    const member = await newUser(t);
    const outsider = await newUser(t);
    await teams.addMember(teamId, member.id, 'member', 'invite');
    expect((await teams.requireRole(teamId, owner.id, ['owner'])).id).toBe(teamId);
    expect((await teams.requireRole(teamId, member.id, ['owner', 'admin', 'member'])).id).toBe(teamId);
    expect(await codeOf(teams.requireRole(teamId, member.id, ['owner', 'admin']))).toBe('403 role_required');
    expect(await codeOf(teams.requireRole(teamId, outsider.id, ['member']))).toBe('404 not_found');
    expect(await codeOf(teams.requireRole('00000000-0000-4000-8000-000000000000', owner.id, ['owner']))).toBe(
      '404 not_found',
    );
    expect(
      await codeOf(teams.addMember('00000000-0000-4000-8000-000000000000', member.id, 'member', 'sso')),
    ).toBe('404 not_found');
  });

  it("gives a member the Team tier while the team's subscription is live, read on each request", async () => {
    const { teamId } = await teamOf(2);
    const member = await newUser(t);
    const me = async () =>
      (await request(t.url).get('/api/v1/auth/me').set(member.auth).expect(200)).body.tier;
    expect(await me()).toBe('free');
    await teams.addMember(teamId, member.id, 'member', 'sso');
    expect(await me()).toBe('team');
  });
});
