/**
 * Suites that need a real PostgreSQL server or Redis run where CI provides
 * them (DATABASE_URL, REDIS_URL) and are reported as skipped elsewhere.
 */
export const withServer = process.env.DATABASE_URL ? describe : describe.skip;
export const withRedis = process.env.REDIS_URL ? describe : describe.skip;
