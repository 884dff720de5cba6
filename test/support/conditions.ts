/**
 * Suites that need a real PostgreSQL server or Redis. Redis suites run
 * everywhere Redis can: on REDIS_URL when it is set (CI), else on a
 * `redis-server` of their own when the binary is installed. A suite whose
 * server is not available is reported as skipped, with the reason in its
 * name, never counted as passed.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';

type Suite = (name: string, fn: () => void) => void;

function needs(available: boolean, what: string): Suite {
  return (name, fn) =>
    available ? describe(name, fn) : describe.skip(`${name} (skipped: needs ${what})`, fn);
}

export const withServer = needs(
  Boolean(process.env.DATABASE_URL),
  'DATABASE_URL: a real PostgreSQL server, as .ci/run starts',
);

const redisBinary = spawnSync('redis-server', ['--version']).status === 0;

export const withRedis: Suite = (name, fn) => {
  if (process.env.REDIS_URL) return describe(name, fn);
  if (!redisBinary) return needs(false, 'REDIS_URL or an installed redis-server')(name, fn);
  describe(name, () => {
    let server: ChildProcess | undefined;
    beforeAll(async () => {
      const port = await freePort();
      server = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      await waitForPort(port);
      process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
    });
    afterAll(() => {
      delete process.env.REDIS_URL;
      server?.kill();
    });
    fn();
  });
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port}`);
}
