import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerProcess, spawnServer, waitFor200 } from './support/server-process.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Account {
  id: string;
  auth: { Authorization: string };
}

/** Every file under `dir`, relative to it, with its size. */
function files(dir: string, base = dir): Array<{ path: string; size: number }> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory()
      ? files(path, base)
      : [{ path: path.slice(base.length + 1), size: statSync(path).size }];
  });
}

/**
 * The issue 21 crash: the built server on its embedded defaults is killed with SIGKILL while
 * clients write records and a large backup is streaming in, then started again on the same
 * DATA_DIR with a short grace so its start-up sweep takes what the crash left behind.
 */
describe('kill -9 mid-writes, restart on the same DATA_DIR, sweep', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'adiuva-crash-'));
  const blobsDir = join(dataDir, 'blobs');
  let server: ServerProcess | undefined;
  afterAll(async () => {
    if (server && server.proc.exitCode === null) {
      server.proc.kill('SIGKILL');
      await server.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  const env = { DATA_DIR: dataDir, DEFAULT_TIER: 'pro', RATE_LIMIT_ENABLED: 'false', LOG_LEVEL: 'info' };
  const call = async (path: string, init: RequestInit & { auth?: Account['auth'] } = {}) => {
    const res = await fetch(`${server!.url}/api/v1${path}`, {
      ...init,
      headers: { 'Content-Type': 'application/json', ...init.auth, ...(init.headers ?? {}) },
    });
    return res;
  };
  const register = async (n: number): Promise<Account> => {
    const res = await call('/auth/register', {
      method: 'POST',
      body: JSON.stringify({
        email: `drill-${n}-${Date.now()}@example.com`,
        password: 'correct horse battery staple',
      }),
    });
    expect(res.status).toBe(201);
    const { access_token: token } = (await res.json()) as { access_token: string };
    const id = String(JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub);
    return { id, auth: { Authorization: `Bearer ${token}` } };
  };

  it('keeps every acknowledged record with its bytes, usage equal to the rows, and no leftover on disk', async () => {
    server = await spawnServer(env);
    await waitFor200(`${server.url}/api/v1/health/ready`, 60_000, server);

    const writers = await Promise.all([1, 2, 3, 4].map(register));
    const uploader = await register(5);
    const acknowledged = new Map<string, { owner: Account; bytes: Buffer }>();
    let attempted = 0;
    let crashed = false;

    // Four clients writing records (2-40 KiB) two at a time each, until the server goes away.
    const writing = writers.map(async (owner) => {
      const lane = async () => {
        while (!crashed) {
          const bytes = randomBytes(2048 + Math.floor(Math.random() * 38 * 1024));
          attempted += 1;
          try {
            const res = await call('/storage/records', {
              method: 'POST',
              auth: owner.auth,
              body: JSON.stringify({ table: 'notes', blob: bytes.toString('base64'), checksum: sha(bytes) }),
            });
            if (res.status === 201)
              acknowledged.set(((await res.json()) as { id: string }).id, { owner, bytes });
          } catch {
            return; // connection refused or reset: the server is gone
          }
        }
      };
      await Promise.all([lane(), lane()]);
    });

    // One 64 MiB backup, streamed at about 16 MiB/s; the server is killed halfway through.
    const backup = randomBytes(64 * 1024 * 1024);
    let sent = 0;
    const uploading = new Promise<void>((resolve) => {
      const req = httpRequest(`${server!.url}/api/v1/backup`, {
        method: 'PUT',
        headers: {
          ...uploader.auth,
          'Content-Type': 'application/octet-stream',
          'Content-Length': String(backup.length),
          'X-Backup-Version': '1',
          'X-Backup-Timestamp': String(Date.now()),
          'X-Backup-Checksum': sha(backup),
        },
      });
      req.on('error', () => resolve());
      req.on('response', () => resolve());
      void (async () => {
        for (let at = 0; at < backup.length && !crashed; at += 1024 * 1024) {
          req.write(backup.subarray(at, at + 1024 * 1024));
          sent = at + 1024 * 1024;
          await sleep(60);
        }
      })();
    });

    while (sent < 32 * 1024 * 1024) await sleep(20);
    server.proc.kill('SIGKILL');
    await server.exited;
    crashed = true;
    await Promise.all([...writing, uploading]);

    const onDisk = files(blobsDir);
    const temps = onDisk.filter((f) => f.path.endsWith('.tmp'));
    const objects = onDisk.filter((f) => !f.path.endsWith('.tmp') && !f.path.endsWith('.sha256'));

    // Same DATA_DIR; the start-up sweep takes whatever no row accounts for (nothing writes meanwhile).
    server = await spawnServer({ ...env, BLOB_SWEEP_GRACE_MS: '0' });
    await waitFor200(`${server.url}/api/v1/health/ready`, 60_000, server);
    const started = Date.now();
    let sweepLine:
      { removed: Record<string, { count: number; bytes: number }>; duration_ms: number } | undefined;
    while (!sweepLine && Date.now() - started < 30_000) {
      sweepLine = server
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"context":"BlobSweep"'))
        .map((l) => JSON.parse(l) as typeof sweepLine)
        .pop();
      if (!sweepLine) await sleep(100);
    }
    expect(sweepLine).toBeDefined();

    // Every acknowledged record reads back with its bytes.
    for (const [id, { owner, bytes }] of acknowledged) {
      const res = await call(`/storage/records/${id}`, { auth: owner.auth });
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    }

    // Per account: usage equals the sum of its rows, and every blob on disk is one of its rows'.
    const remaining = files(blobsDir);
    expect(remaining.filter((f) => f.path.endsWith('.tmp'))).toEqual([]);
    let rows = 0;
    for (const owner of [...writers, uploader]) {
      const records: Array<{ id: string; size_bytes: number }> = [];
      for (let page = 1; ; page++) {
        const list = await call(`/storage/records?limit=500&page=${page}`, { auth: owner.auth });
        const batch = (await list.json()) as Array<{ id: string; size_bytes: number }>;
        records.push(...batch);
        if (batch.length < 500) break;
      }
      rows += records.length;
      const usage = (await (await call('/storage/usage', { auth: owner.auth })).json()) as {
        used_bytes: number;
      };
      expect(usage.used_bytes).toBe(records.reduce((n, r) => n + r.size_bytes, 0));
      const backups = (await (await call('/backup/history', { auth: owner.auth })).json()) as Array<{
        id: string;
      }>;
      const mine = remaining.filter((f) => f.path.startsWith(`${owner.id}/`) && !f.path.endsWith('.sha256'));
      const expected = [
        ...records.map((r) => new RegExp(`^${owner.id}/notes/${r.id}\\.[0-9a-f]{12}$`)),
        ...backups.map((b) => new RegExp(`^${owner.id}/backups/${b.id}$`)),
      ];
      // Exactly one blob per row, and no blob without its row.
      expect(mine).toHaveLength(expected.length);
      for (const file of mine) expect(expected.some((p) => p.test(file.path))).toBe(true);
    }
    expect(rows).toBeGreaterThanOrEqual(acknowledged.size);

    const swept = Object.values(sweepLine!.removed).reduce(
      (t, k) => ({ count: t.count + k.count, bytes: t.bytes + k.bytes }),
      { count: 0, bytes: 0 },
    );
    process.stdout.write(
      `crash drill: ${attempted} record writes attempted, ${acknowledged.size} acknowledged, ${rows} rows after restart; ` +
        `backup killed at ${sent / 1024 / 1024} MiB sent; before the sweep ${objects.length} blobs + ${temps.length} temp files ` +
        `(${temps.reduce((n, f) => n + f.size, 0)} bytes); swept ${swept.count} files, ${swept.bytes} bytes: ` +
        `${JSON.stringify(sweepLine!.removed)} in ${sweepLine!.duration_ms} ms\n`,
    );
    expect(swept.count).toBeGreaterThan(0);

    server.proc.kill('SIGTERM');
    await server.exited;
  }, 180_000);
});
