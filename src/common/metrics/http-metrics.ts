import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import type { Counter, Histogram } from 'prom-client';
import type { AuthUser } from '../auth/auth-user.js';
import { AppMetrics } from './app-metrics.js';

type Observed = Request & { user?: AuthUser };

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The route template a request matched (`/api/v1/records/:id`), or
 * `unmatched` (a 404, or a request refused before routing): never the raw
 * path, which carries ids.
 */
export function routeLabel(req: Request): string {
  const route = (req as { route?: { path?: unknown } }).route;
  // A wildcard is the catch-all that answers unknown paths with the JSON 404.
  return route && typeof route.path === 'string' && !route.path.includes('*')
    ? req.baseUrl + route.path
    : 'unmatched';
}

export const statusClass = (status: number): string =>
  STATUS_CLASSES[Math.floor(status / 100) - 1] ?? 'other';

/**
 * Counts and times every request at the end of its response. The label
 * children are cached per (method, route, status class), so a request costs
 * two map lookups and two increments, not a hash of its labels.
 */
export function httpMetricsMiddleware(metrics: AppMetrics) {
  const children = new Map<string, { count: Counter.Internal; duration: Histogram.Internal<string> }>();
  const childrenOf = (method: string, route: string, status: string) => {
    const key = `${method} ${route} ${status}`;
    let child = children.get(key);
    if (!child) {
      const labels = { method, route, status_class: status };
      child = { count: metrics.httpRequests.labels(labels), duration: metrics.httpDuration.labels(labels) };
      children.set(key, child);
    }
    return child;
  };
  return (req: Observed, res: Response, next: NextFunction): void => {
    const started = performance.now();
    metrics.requestStarted();
    res.once('close', () => {
      metrics.requestEnded();
      const method = METHODS.has(req.method) ? req.method : 'other';
      const child = childrenOf(method, routeLabel(req), statusClass(res.statusCode));
      child.count.inc();
      child.duration.observe((performance.now() - started) / 1000);
      if (res.statusCode === 429) metrics.countRateLimited(req.user?.tier);
    });
    next();
  };
}

/** Mounts the request metrics first of all (so refusals before routing count too), when metrics are on. */
export function useHttpMetrics(app: NestExpressApplication): void {
  const metrics = app.get(AppMetrics);
  if (metrics.enabled) app.use(httpMetricsMiddleware(metrics));
}
