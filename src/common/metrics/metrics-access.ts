import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** What a scrape request may get: the exposition, a 401, or a 404 where metrics are not served. */
export type MetricsAccess = 'allowed' | 'unauthenticated' | 'not_found';

/**
 * The rule of both doors. On the public API: only with METRICS_TOKEN set and
 * METRICS_PORT unset, and then only with `Authorization: Bearer <token>`. On
 * METRICS_PORT: always, and with the token when one is set. Compared in
 * constant time, on digests (so the length does not show either).
 */
export function metricsAccess(
  config: { port: number | undefined; token: string | undefined },
  door: 'public' | 'port',
  authorization: string | undefined,
): MetricsAccess {
  if (door === 'public' && (config.port !== undefined || config.token === undefined)) return 'not_found';
  if (config.token === undefined) return 'allowed';
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (presented === undefined) return 'unauthenticated';
  return timingSafeEqual(digest(presented), digest(config.token)) ? 'allowed' : 'unauthenticated';
}
