import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { ProbeModule } from './support/probe.module.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser } from './support/users.js';

describe('admin, tier gates and the audit log', () => {
  let t: TestApp;
  let db: DataSource;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        ADMIN_EMAILS: 'boss@example.com',
        AUTH_RATE_LIMIT_PER_IP: '10000',
        AUTH_RATE_LIMIT_PER_ACCOUNT: '10000',
      },
      extraModules: [ProbeModule],
    });
    db = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  const api = () => request(t.url);

  it('gives the admin role to ADMIN_EMAILS accounts and 403 to everyone else', async () => {
    const boss = await newUser(t, { email: 'Boss@Example.com' });
    const me = await api().get('/api/v1/auth/me').set(boss.auth).expect(200);
    expect(me.body.role).toBe('admin');
    await api().get('/api/v1/admin/users').set(boss.auth).expect(200);

    const user = await newUser(t);
    const res = await api().get('/api/v1/admin/users').set(user.auth).expect(403);
    expect(res.body.message).toBe('This endpoint requires the admin role');
    await api().get('/api/v1/admin/audit').set(user.auth).expect(403);
  });

  it('lists users paginated and searchable by email', async () => {
    const admin = await newUser(t, { role: 'admin' });
    const tag = randomUUID().slice(0, 6);
    for (let i = 0; i < 3; i++) await newUser(t, { email: `find-${tag}-${i}@example.com` });
    const page1 = await api()
      .get(`/api/v1/admin/users?email=FIND-${tag}&limit=2&page=1`)
      .set(admin.auth)
      .expect(200);
    expect(page1.body).toMatchObject({ total: 3, page: 1, limit: 2 });
    expect(page1.body.items).toHaveLength(2);
    expect(page1.body.items[0]).toEqual({
      id: expect.any(String),
      email: expect.stringContaining(`find-${tag}`),
      tier: 'free',
      tier_override: null,
      role: 'user',
      disabled: false,
      created_at: expect.any(Number),
    });
    const page2 = await api()
      .get(`/api/v1/admin/users?email=find-${tag}&limit=2&page=2`)
      .set(admin.auth)
      .expect(200);
    expect(page2.body.items).toHaveLength(1);
    await api().get('/api/v1/admin/users?limit=1000').set(admin.auth).expect(400);
    // LIKE wildcards in the search are literal.
    expect((await api().get('/api/v1/admin/users?email=%25').set(admin.auth).expect(200)).body.total).toBe(0);
  });

  it('changes a tier, which the very next request of that user sees, and audits it', async () => {
    const admin = await newUser(t, { role: 'admin' });
    const u = await newUser(t);
    const patched = await api()
      .patch(`/api/v1/admin/users/${u.id}`)
      .set(admin.auth)
      .send({ tier: 'power' })
      .expect(200);
    expect(patched.body).toMatchObject({ id: u.id, tier: 'power', tier_override: 'power' });
    expect((await api().get('/api/v1/auth/me').set(u.auth).expect(200)).body.tier).toBe('power');

    const events = await db.query(
      `SELECT event_type, actor_id, data FROM audit_log WHERE subject_id = $1 ORDER BY id`,
      [u.id],
    );
    expect(events.map((e: { event_type: string }) => e.event_type)).toEqual(
      expect.arrayContaining(['admin.user_updated', 'tier.changed']),
    );
    const tierChange = events.find((e: { event_type: string }) => e.event_type === 'tier.changed');
    expect(tierChange).toMatchObject({ actor_id: admin.id, data: { from: 'free', to: 'power' } });
  });

  it('validates PATCH bodies and answers 404 for unknown users', async () => {
    const admin = await newUser(t, { role: 'admin' });
    const u = await newUser(t);
    await api().patch(`/api/v1/admin/users/${u.id}`).set(admin.auth).send({ tier: 'gold' }).expect(400);
    await api().patch(`/api/v1/admin/users/${u.id}`).set(admin.auth).send({}).expect(400);
    await api()
      .patch(`/api/v1/admin/users/${randomUUID()}`)
      .set(admin.auth)
      .send({ tier: 'pro' })
      .expect(404);
    const self = await api()
      .patch(`/api/v1/admin/users/${admin.id}`)
      .set(admin.auth)
      .send({ disabled: true })
      .expect(400);
    expect(self.body.message).toBe('You cannot disable or demote your own account');
  });

  it('disabling an account gives it 401 everywhere: sessions, refresh, API keys and login', async () => {
    const admin = await newUser(t, { role: 'admin' });
    const u = await newUser(t, { tier: 'pro' });
    const key = (await api().post('/api/v1/auth/api-keys').set(u.auth).send({ name: 'k' }).expect(201)).body
      .key;

    await api().patch(`/api/v1/admin/users/${u.id}`).set(admin.auth).send({ disabled: true }).expect(200);
    await api().get('/api/v1/auth/me').set(u.auth).expect(401);
    await api().get('/api/v1/auth/me').set('X-API-Key', key).expect(401);
    await api().post('/api/v1/auth/refresh').send({ refresh_token: u.tokens.refresh_token }).expect(401);
    await api().post('/api/v1/auth/login').send({ email: u.email, password: u.password }).expect(401);

    // Re-enabled: signing in works again, but the old session and key stay revoked.
    await api().patch(`/api/v1/admin/users/${u.id}`).set(admin.auth).send({ disabled: false }).expect(200);
    await api().post('/api/v1/auth/login').send({ email: u.email, password: u.password }).expect(200);
    await api().get('/api/v1/auth/me').set(u.auth).expect(401);
    await api().get('/api/v1/auth/me').set('X-API-Key', key).expect(401);
  });

  it('gates features by tier with a 403 naming the tier needed', async () => {
    const free = await newUser(t);
    const res = await api().get('/api/v1/probe/marketplace').set(free.auth).expect(403);
    expect(res.body.message).toMatch(
      /plugin_marketplace requires the power tier or higher; your tier is free/,
    );
    const pro = await newUser(t, { tier: 'pro' });
    await api().get('/api/v1/probe/marketplace').set(pro.auth).expect(403);
    const power = await newUser(t, { tier: 'power' });
    await api().get('/api/v1/probe/marketplace').set(power.auth).expect(200);
  });

  describe('audit log', () => {
    it('lists entries newest first, filters by event type, and verifies the chain', async () => {
      const admin = await newUser(t, { role: 'admin' });
      const list = await api()
        .get('/api/v1/admin/audit?event_type=auth.register&limit=5')
        .set(admin.auth)
        .expect(200);
      expect(list.body.items.length).toBeGreaterThan(0);
      expect(list.body.items.every((e: { event_type: string }) => e.event_type === 'auth.register')).toBe(
        true,
      );
      const ids = list.body.items.map((e: { id: string }) => Number(e.id));
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      expect(list.body.items[0]).toEqual({
        id: expect.any(String),
        event_type: 'auth.register',
        actor_id: expect.any(String),
        subject_id: expect.any(String),
        reason: null,
        data: {},
        created_at: expect.any(Number),
        prev_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        chain_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      await api().get('/api/v1/admin/audit?event_type=DROP TABLE').set(admin.auth).expect(400);

      const total = Number((await db.query('SELECT count(*)::int AS n FROM audit_log'))[0].n);
      const verify = await api().get('/api/v1/admin/audit/verify').set(admin.auth).expect(200);
      expect(verify.body).toEqual({ ok: true, checked: total, first_broken_id: null });
    });

    it('stays one linear chain under concurrent writers', async () => {
      const admin = await newUser(t, { role: 'admin' });
      await Promise.all(Array.from({ length: 8 }, () => newUser(t)));
      const verify = await api().get('/api/v1/admin/audit/verify').set(admin.auth).expect(200);
      expect(verify.body.ok).toBe(true);
    });

    it('refuses updates and deletes in the database, and verify names a tampered row', async () => {
      const admin = await newUser(t, { role: 'admin' });
      const [target] = await db.query(`SELECT id FROM audit_log ORDER BY id DESC OFFSET 2 LIMIT 1`);
      await expect(db.query(`DELETE FROM audit_log WHERE id = $1`, [target.id])).rejects.toThrow(
        /append-only/,
      );

      // Someone with the power to switch the trigger off rewrites history...
      await db.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete');
      await db.query(`UPDATE audit_log SET reason = 'nothing happened' WHERE id = $1`, [target.id]);
      await db.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete');
      // ...and the chain names the row.
      const verify = await api().get('/api/v1/admin/audit/verify').set(admin.auth).expect(200);
      expect(verify.body).toMatchObject({ ok: false, first_broken_id: String(target.id) });
    });
  });
});
