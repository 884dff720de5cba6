import type { Redis } from 'ioredis';
import type { Server as HttpServer } from 'node:http';
import type { Pool, PoolClient } from 'pg';
import type { Namespace, Server as IoServer } from 'socket.io';
import type { AppMetrics } from './app-metrics.js';

const seconds = (since: number) => (performance.now() - since) / 1000;
const OBSERVED = Symbol('adiuva.metrics.observed');

/** The pool's connections (total, idle, waiting) read at each scrape, and every statement timed. */
export function observePool(pool: Pool, metrics: AppMetrics): void {
  metrics.readAtScrape('adiuva_db_pool_total', 'Database connections open', () => pool.totalCount);
  metrics.readAtScrape('adiuva_db_pool_idle', 'Database connections idle', () => pool.idleCount);
  metrics.readAtScrape(
    'adiuva_db_pool_waiting',
    'Requests waiting for a database connection',
    () => pool.waitingCount,
  );
  // Each connection's `query` is wrapped once, the first time the pool hands it out.
  pool.on('acquire', (client) => observeClient(client, metrics));
}

function observeClient(client: PoolClient & { [OBSERVED]?: true }, metrics: AppMetrics): void {
  if (client[OBSERVED]) return;
  client[OBSERVED] = true;
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const result = query(...args);
    // Callback and stream forms (cursors) are left untimed; TypeORM awaits promises.
    if (!(result instanceof Promise)) return result;
    const started = performance.now();
    result.then(
      () => metrics.dbQueryDuration.observe({ outcome: 'ok' }, seconds(started)),
      () => metrics.dbQueryDuration.observe({ outcome: 'error' }, seconds(started)),
    );
    return result;
  };
}

/** Every command of the shared Redis connection, timed by name, failures counted. */
export function observeRedis(client: Redis, metrics: AppMetrics): void {
  const send = client.sendCommand.bind(client);
  client.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
    const [command] = args;
    const name = command.name.toLowerCase();
    const started = performance.now();
    command.promise.then(
      () => metrics.redisDuration.observe({ command: name }, seconds(started)),
      () => {
        metrics.redisDuration.observe({ command: name }, seconds(started));
        metrics.redisErrors.inc({ command: name });
      },
    );
    return send(...args);
  };
}

/** Open Socket.IO connections and events in and out, per namespace (the gateways' fixed names). */
export function observeSocketIo(server: IoServer, metrics: AppMetrics): void {
  const observe = (nsp: Namespace) => {
    const namespace = nsp.name;
    nsp.on('connection', (socket) => {
      const open = metrics.socketsOpen.labels({ transport: 'socket.io', namespace });
      open.inc();
      socket.once('disconnect', () => open.dec());
      socket.onAny(() => metrics.socketEvents.inc({ namespace, direction: 'in' }));
      socket.onAnyOutgoing(() => metrics.socketEvents.inc({ namespace, direction: 'out' }));
    });
  };
  observe(server.of('/'));
  server.on('new_namespace', observe);
}

/**
 * Open plain-WebSocket connections on `path`, counted at the HTTP upgrade and
 * until the socket closes (a refused upgrade closes at once).
 */
export function observeWebSocketUpgrades(http: HttpServer, path: string, metrics: AppMetrics): void {
  const open = metrics.socketsOpen.labels({ transport: 'websocket', namespace: path });
  http.on('upgrade', (req: { url?: string }, socket: NodeJS.EventEmitter) => {
    if ((req.url ?? '').split('?')[0] !== path) return;
    open.inc();
    socket.once('close', () => open.dec());
  });
}
