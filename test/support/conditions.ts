/**
 * Suites that need a real PostgreSQL server or Redis run where CI provides
 * them (DATABASE_URL, REDIS_URL) and are reported as skipped elsewhere, with
 * the reason in the suite's name so a skipped test says why it skipped.
 */
type Suite = (name: string, fn: () => void) => void;

function needs(available: boolean, what: string): Suite {
  return (name, fn) =>
    available ? describe(name, fn) : describe.skip(`${name} (skipped: needs ${what})`, fn);
}

export const withServer = needs(
  Boolean(process.env.DATABASE_URL),
  'DATABASE_URL: a real PostgreSQL server, as .ci/run starts',
);
export const withRedis = needs(
  Boolean(process.env.REDIS_URL),
  'REDIS_URL: a Redis server, as .ci/run starts',
);
