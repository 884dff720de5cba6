import { Logger } from '@nestjs/common';

/** A backing service a request may find unreachable. */
export type Dependency = 'database' | 'blob_store';

const PROBE_TIMEOUT_MS = 2000;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Seconds a client is told to wait (Retry-After) when a backing service is down. */
export const OUTAGE_RETRY_AFTER_S = 5;

/** PostgreSQL SQLSTATEs that mean "the server is not there for you right now". */
const PG_UNAVAILABLE = /^(08\d{3}|57P0[1-3]|53300)$/;
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const PG_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|connection error and is not queryable|Client was closed and is not queryable|terminating connection due to administrator command|the database system is (starting up|shutting down|in recovery mode)/i;

/**
 * Which backing service an error says is unreachable, or undefined when it is
 * another kind of failure (a bug, a constraint): S3 SDK errors carry
 * `$metadata`; everything else network-shaped or with a connection SQLSTATE
 * comes from the database driver (the only other connection a request uses).
 */
export function classifyOutage(err: unknown): Dependency | undefined {
  for (let e = err as Record<string, unknown> | undefined, depth = 0; e && depth < 4; depth++) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    const message = typeof e.message === 'string' ? e.message : '';
    if (e.$metadata !== undefined) {
      const status = (e.$metadata as { httpStatusCode?: number }).httpStatusCode;
      if (status === undefined || status >= 500 || NETWORK.has(code ?? '') || e.name === 'TimeoutError')
        return 'blob_store';
      return undefined;
    }
    if ((code && PG_UNAVAILABLE.test(code)) || PG_MESSAGES.test(message)) return 'database';
    if (code && NETWORK.has(code)) return 'database';
    // TypeORM wraps the driver's error; Nest and our own code may wrap it as `cause`.
    e = (e.driverError ?? e.cause) as Record<string, unknown> | undefined;
  }
  return undefined;
}

/**
 * What an operator sees of an outage: one warning when a backing service
 * goes down (the first error's message), one line when it is back (how long,
 * how many requests were answered 503), instead of a stack per request.
 * While one is down it is probed every second.
 */
export class OutageTracker {
  private readonly logger = new Logger('Outage');
  private readonly down = new Map<
    Dependency,
    { since: number; failed: number; timer: NodeJS.Timeout; probing: boolean }
  >();
  private readonly probes = new Map<Dependency, () => Promise<void>>();

  setProbe(dependency: Dependency, probe: () => Promise<void>): void {
    this.probes.set(dependency, probe);
  }

  isDown(dependency: Dependency): boolean {
    return this.down.has(dependency);
  }

  /** A request failed because `dependency` is unreachable. */
  failed(dependency: Dependency, err: unknown): void {
    const state = this.down.get(dependency);
    if (state) {
      state.failed++;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    this.logger.warn(`${dependency} is unreachable (${message}): answering 503 until it is back`);
    const timer = setInterval(() => void this.probe(dependency), 1000);
    timer.unref();
    this.down.set(dependency, { since: Date.now(), failed: 1, timer, probing: false });
  }

  private async probe(dependency: Dependency): Promise<void> {
    const probe = this.probes.get(dependency);
    const state = this.down.get(dependency);
    // One probe at a time, each bounded: a blackholed service must not pile them up.
    if (!probe || !state || state.probing) return;
    state.probing = true;
    try {
      await withTimeout(probe(), PROBE_TIMEOUT_MS);
    } catch {
      return;
    } finally {
      state.probing = false;
    }
    if (this.down.get(dependency) !== state) return;
    clearInterval(state.timer);
    this.down.delete(dependency);
    this.logger.log(
      `${dependency} is back after ${((Date.now() - state.since) / 1000).toFixed(1)} s; ` +
        `${state.failed} request${state.failed === 1 ? '' : 's'} answered 503 meanwhile`,
    );
  }

  stop(): void {
    for (const state of this.down.values()) clearInterval(state.timer);
    this.down.clear();
  }
}
