import request from 'supertest';
import { DataSource } from 'typeorm';
import { runAdminRoleCommand } from '../src/cli/admin-role.js';
import { startTestApp, type TestApp } from './support/test-app.js';

/**
 * The admin role in production: ADMIN_EMAILS makes no admin (whoever registers
 * an address first would be one, and emails are not verified); an operator
 * grants and revokes the role with `npm run admin:grant` / `admin:revoke`,
 * whose command runs here against the running app's database.
 */
describe('admin role in production', () => {
  const prodEnv = {
    ENV: 'prod',
    JWT_SECRET: 'p'.repeat(40),
    PUBLIC_URL: 'https://api.example.test',
  };
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await startTestApp({ env: { ...prodEnv, ADMIN_EMAILS: 'boss@example.com' } });
    db = t.app.get(DataSource);
  }, 120_000);
  afterAll(() => t?.close());

  const api = () => request(t.url);
  /** The command as `npm run admin:<action> -- <args>` runs it, on the app's database. */
  const command = (action: 'grant' | 'revoke', ...args: string[]) =>
    runAdminRoleCommand(action, args, {
      ...prodEnv,
      DATABASE_URL: t.db.url,
      DATA_DIR: t.config.dataDir,
    });

  async function register(email: string): Promise<{ Authorization: string }> {
    const res = await api()
      .post('/api/v1/auth/register')
      .send({ email, password: 'correct horse battery staple' })
      .expect(201);
    return { Authorization: `Bearer ${res.body.access_token as string}` };
  }

  const auditOf = (userId: string) =>
    db.query<Array<{ event_type: string; actor_id: string | null; reason: string; data: unknown }>>(
      `SELECT event_type, actor_id, reason, data FROM audit_log
        WHERE subject_id = $1 AND event_type LIKE 'admin.%' ORDER BY id`,
      [userId],
    );

  it('ignores ADMIN_EMAILS, saying so at start: registering a listed address gives a plain user', async () => {
    expect(t.config.adminEmails).toEqual([]);
    expect(t.logs.text).toContain('ADMIN_EMAILS is ignored with ENV=prod');
    const squatter = await register('Boss@Example.com');
    expect((await api().get('/api/v1/auth/me').set(squatter).expect(200)).body.role).toBe('user');
    await api().get('/api/v1/admin/users').set(squatter).expect(403);
  });

  it('grants the role by operator command, effective on the next request, audited; revokes it the same way', async () => {
    const auth = await register('operator-made@example.com');
    const me = await api().get('/api/v1/auth/me').set(auth).expect(200);
    const userId = me.body.id as string;
    expect(me.body.role).toBe('user');

    const granted = await command('grant', 'Operator-Made@Example.com');
    expect(granted.code).toBe(0);
    expect(granted.output).toContain(`granted the admin role to operator-made@example.com (${userId})`);
    // The same access token: the role is read fresh on every request.
    expect((await api().get('/api/v1/auth/me').set(auth).expect(200)).body.role).toBe('admin');
    await api().get('/api/v1/admin/users').set(auth).expect(200);

    // Granting again changes nothing and writes nothing.
    const again = await command('grant', 'operator-made@example.com');
    expect(again).toMatchObject({ code: 0 });
    expect(again.output).toContain('nothing changed');

    const revoked = await command('revoke', 'operator-made@example.com');
    expect(revoked.code).toBe(0);
    expect(revoked.output).toContain('revoked the admin role of operator-made@example.com');
    expect((await api().get('/api/v1/auth/me').set(auth).expect(200)).body.role).toBe('user');
    await api().get('/api/v1/admin/users').set(auth).expect(403);

    const audit = await auditOf(userId);
    expect(audit).toEqual([
      {
        event_type: 'admin.role_granted',
        actor_id: null,
        reason: 'operator command',
        data: { changes: { role: { from: 'user', to: 'admin' } }, operator: expect.any(String) },
      },
      {
        event_type: 'admin.role_revoked',
        actor_id: null,
        reason: 'operator command',
        data: { changes: { role: { from: 'admin', to: 'user' } }, operator: expect.any(String) },
      },
    ]);
  }, 120_000);

  it('keeps the audit chain whole across the commands', async () => {
    const admin = await register('chain-check@example.com');
    expect((await command('grant', 'chain-check@example.com')).code).toBe(0);
    const verify = await api().get('/api/v1/admin/audit/verify').set(admin).expect(200);
    expect(verify.body).toMatchObject({ ok: true, first_broken_id: null });
    const listed = await api()
      .get('/api/v1/admin/audit?event_type=admin.role_granted')
      .set(admin)
      .expect(200);
    expect(listed.body.total).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('refuses an unknown account and a malformed call, changing nothing', async () => {
    const auditRows = async () =>
      (await db.query<Array<{ n: number }>>('SELECT count(*)::int AS n FROM audit_log'))[0].n;
    const before = await auditRows();
    const unknown = await command('grant', 'nobody@example.com');
    expect(unknown).toEqual({ code: 1, output: 'No account has the email nobody@example.com\n' });
    expect(await command('grant')).toEqual({ code: 2, output: 'usage: npm run admin:grant -- EMAIL\n' });
    expect(await command('revoke', 'a@example.com', 'b@example.com')).toMatchObject({ code: 2 });
    expect(await command('grant', 'not-an-email')).toMatchObject({ code: 2 });
    expect(await auditRows()).toBe(before);
  }, 60_000);
});
