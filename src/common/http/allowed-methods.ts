import type { Express, Request } from 'express';

/** The parts of Express's router this reads: its layers, each a path matcher with a route's methods. */
interface RouterLayer {
  route?: { methods: Record<string, boolean | undefined> };
  match(path: string): unknown;
}

/**
 * The methods the app's routes answer on a path, uppercase and sorted (HEAD
 * wherever GET is, as Express answers it), or none when no route has the
 * path. Used only for a request no route took, so the cost of walking the
 * routes is paid by 404s and 405s alone.
 */
export function allowedMethodsFor(app: Express, path: string): string[] {
  const stack = (app as Express & { router?: { stack?: RouterLayer[] } }).router?.stack ?? [];
  const methods = new Set<string>();
  for (const layer of stack) {
    if (!layer.route || !layer.match(path)) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) {
      if (!on || method === '_all') continue;
      methods.add(method.toUpperCase());
      if (method === 'get') methods.add('HEAD');
    }
  }
  return [...methods].sort();
}

/**
 * A request Nest's not-found handler refused (no route for its method and
 * path): its exception message is exactly `Cannot <METHOD> <url>`.
 */
export function isUnroutedRequest(req: Request, message: string): boolean {
  return message === `Cannot ${req.method} ${req.originalUrl ?? req.url}`;
}
