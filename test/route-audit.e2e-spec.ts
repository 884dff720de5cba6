import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { listRoutes, mountedRoutes } from './support/routes.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser } from './support/users.js';

/**
 * Every route must be deliberately public (@Public()) or behind the global
 * authentication guard; for the guarded ones this is checked by behaviour: a
 * request without credentials gets 401, whatever the route.
 */
describe('route audit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('sees every route Express serves (besides the public Swagger UI under /docs)', () => {
    const declared = listRoutes(t.app)
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    const mounted = mountedRoutes(t.app);
    expect(declared.length).toBeGreaterThan(0);
    expect(declared).toEqual(mounted.filter((r) => !r.startsWith('GET /docs')).sort());
    expect(
      mounted.filter((r) => !declared.includes(r)).every((r) => /^GET \/docs(\/|-json|-yaml|$)/.test(r)),
    ).toBe(true);
  });

  it('answers 401 without credentials on every route that is not @Public()', async () => {
    const guarded = listRoutes(t.app).filter((r) => !r.isPublic);
    expect(guarded.length).toBeGreaterThan(0);
    const answers: string[] = [];
    for (const r of guarded) {
      const path = r.path.replace(/:[a-zA-Z_]+/g, randomUUID());
      const res = await request(t.url)[r.method.toLowerCase() as 'get'](path).send({});
      answers.push(`${r.method} ${r.path} -> ${res.status}`);
    }
    expect(answers).toEqual(guarded.map((r) => `${r.method} ${r.path} -> 401`));
  });

  it('keeps the public surface to what is meant to be public', () => {
    const open = listRoutes(t.app)
      .filter((r) => r.isPublic)
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    expect(open).toEqual(
      [
        'GET /api/v1/health',
        'GET /api/v1/health/ready',
        // Prometheus scrapes: its own bearer token (METRICS_TOKEN), 404 when metrics are not on this port.
        'GET /api/v1/metrics',
        'POST /api/v1/auth/login',
        'POST /api/v1/auth/logout',
        'POST /api/v1/auth/refresh',
        'POST /api/v1/auth/register',
        'GET /api/v1/billing/tiers',
        'POST /api/v1/billing/webhook',
        'GET /api/v1/plugins/signing-key',
        'GET /api/v1/plugins/packages/:versionId',
        // Attachment bytes on the files driver: the signed link is the authorization, as a presigned S3 URL is.
        'PUT /api/v1/storage/attachments/:id/upload',
        'GET /api/v1/storage/attachments/:id/download',
        // A team invitation's page: the single-use token is the authorization (unknown/used/expired → 404).
        'GET /api/v1/teams/invites/:token',
        // The account is disabled pending erasure: restore signs in by password itself (sign-in limits).
        'POST /api/v1/account/restore',
        // A signed link (15 minutes) to an export archive on the files driver.
        'GET /api/v1/account/export/:id/download',
      ].sort(),
    );
  });

  it('serves every team route from the teams module, the invite paths before /teams/:id', async () => {
    const teams = listRoutes(t.app).filter((r) => /^\/api\/v1\/teams(\/|$)/.test(r.path));
    expect(
      teams.map((r) => `${r.method} ${r.path} ${r.handler}${r.isPublic ? ' public' : ''}`).sort(),
    ).toEqual(
      [
        'POST /api/v1/teams TeamsController.createTeam',
        'GET /api/v1/teams/mine TeamsController.listMyTeams',
        'GET /api/v1/teams/:id TeamsController.getTeam',
        'GET /api/v1/teams/:id/members TeamsController.listTeamMembers',
        'PATCH /api/v1/teams/:id/members/:user_id TeamsController.updateTeamMember',
        'DELETE /api/v1/teams/:id/members/:user_id TeamsController.removeTeamMember',
        'PATCH /api/v1/teams/:id/seats TeamsController.updateTeamSeats',
        'POST /api/v1/teams/:id/invites TeamInvitesController.createTeamInvite',
        'GET /api/v1/teams/:id/invites TeamInvitesController.listTeamInvites',
        'DELETE /api/v1/teams/:id/invites/:invite_id TeamInvitesController.revokeTeamInvite',
        'GET /api/v1/teams/invites/:token TeamInvitesController.getTeamInvite public',
        'POST /api/v1/teams/invites/:token/accept TeamInvitesController.acceptTeamInvite',
      ].sort(),
    );
    // `mine` reaches its own handler, not GET /teams/:id (which would answer 400 for a non-UUID).
    const user = await newUser(t);
    expect((await request(t.url).get('/api/v1/teams/mine').set(user.auth).expect(200)).body).toEqual({
      teams: [],
    });
    expect((await request(t.url).get('/api/v1/teams/invites/tinv_unknown').expect(404)).body.code).toBe(
      'not_found',
    );
  });

  it('serves chat, agents and plans to every signed-in tier (each agent and playbook checks its own tier)', () => {
    const chat = listRoutes(t.app)
      .filter((r) => /^\/api\/v1\/(chat|agents|plans)(\/|$)/.test(r.path))
      .map((r) => `${r.method} ${r.path} ${r.handler}${r.isPublic ? ' public' : ''}${r.guards.join(' ')}`)
      .sort();
    expect(chat).toEqual(
      [
        'POST /api/v1/chat ChatController.chat',
        'POST /api/v1/chat/stream ChatController.chatStream',
        'GET /api/v1/chat/stream/:request_id ChatController.resumeChatStream',
        'GET /api/v1/chat/streams ChatController.listChatStreams',
        'GET /api/v1/chat/models ChatController.listChatModels',
        'GET /api/v1/agents AgentsController.listAgents',
        'GET /api/v1/plans/playbook PlansController.listPlaybooks',
        'GET /api/v1/plans/playbook/:id PlansController.getPlaybook',
      ].sort(),
    );
  });

  it('answers 403 role_required to a signed-in account without the admin role on every admin route', async () => {
    const user = await newUser(t, { tier: 'team' });
    const admin = listRoutes(t.app).filter((r) => r.path.startsWith('/api/v1/admin/'));
    expect(admin.map((r) => `${r.method} ${r.path}`)).toContain('GET /api/v1/admin/usage');
    const answers: string[] = [];
    for (const r of admin) {
      const path = r.path.replace(/:[a-zA-Z_]+/g, randomUUID());
      const res = await request(t.url)[r.method.toLowerCase() as 'get'](path).set(user.auth).send({});
      answers.push(`${r.method} ${r.path} -> ${res.status} ${res.body.code}`);
    }
    expect(answers).toEqual(admin.map((r) => `${r.method} ${r.path} -> 403 role_required`));
  });

  it("serves the static /plugins paths of submissions and sales, not the catalog's /plugins/:id", async () => {
    // Three modules serve /plugins; Express matches in registration order, and `:id` matches `mine` too.
    const pro = await newUser(t, { tier: 'pro' });
    const answers: string[] = [];
    for (const path of ['mine', 'installed', 'developer', 'earnings', 'signing-key']) {
      const res = await request(t.url).get(`/api/v1/plugins/${path}`).set(pro.auth);
      answers.push(`${path} ${res.status}`);
    }
    expect(answers).toEqual([
      'mine 200',
      'installed 200',
      'developer 200',
      'earnings 200',
      'signing-key 200',
    ]);
  });

  it('gates the plugin catalog, installs and ratings to plugin_marketplace tiers; submissions are for every account', async () => {
    const plugins = listRoutes(t.app).filter((r) => /^\/api\/v1\/plugins(\/|$)/.test(r.path));
    expect(
      plugins
        .map((r) => `${r.method} ${r.path} ${r.handler} ${r.isPublic ? 'public' : (r.feature ?? '-')}`)
        .sort(),
    ).toEqual(
      [
        'GET /api/v1/plugins PluginCatalogController.listPlugins plugin_marketplace',
        'GET /api/v1/plugins/:id PluginCatalogController.getPlugin plugin_marketplace',
        'GET /api/v1/plugins/signing-key PluginCatalogController.getSigningKey public',
        'GET /api/v1/plugins/packages/:versionId PluginCatalogController.downloadPluginPackage public',
        'GET /api/v1/plugins/mine PluginSubmissionsController.listMyPlugins -',
        'GET /api/v1/plugins/installed PluginCatalogController.listInstalledPlugins -',
        'POST /api/v1/plugins/developer/connect PluginSalesController.connectDeveloperAccount -',
        'GET /api/v1/plugins/developer PluginSalesController.getDeveloperAccount -',
        'GET /api/v1/plugins/earnings PluginSalesController.getEarnings -',
        'POST /api/v1/plugins PluginSubmissionsController.submitPlugin -',
        'POST /api/v1/plugins/:id/versions PluginSubmissionsController.submitPluginVersion -',
        'POST /api/v1/plugins/:id/install PluginCatalogController.installPlugin plugin_marketplace',
        'DELETE /api/v1/plugins/:id/install PluginCatalogController.uninstallPlugin -',
        'POST /api/v1/plugins/:id/ratings PluginCatalogController.ratePlugin plugin_marketplace',
        'GET /api/v1/plugins/:id/ratings PluginCatalogController.listPluginRatings plugin_marketplace',
      ].sort(),
    );
    const pro = await newUser(t, { tier: 'pro' });
    const answers: string[] = [];
    for (const r of plugins.filter((route) => route.feature)) {
      const res = await request(t.url)
        [r.method.toLowerCase() as 'get'](r.path.replace(':id', 'github-sync'))
        .set(pro.auth);
      answers.push(`${r.method} ${r.path} -> ${res.status} ${res.body.code} ${res.body.required_tier}`);
    }
    expect(answers).toEqual(
      plugins.filter((route) => route.feature).map((r) => `${r.method} ${r.path} -> 403 tier_required power`),
    );
  });
});
