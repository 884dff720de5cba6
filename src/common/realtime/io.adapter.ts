import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Observable } from 'rxjs';
import type { Server, ServerOptions, Socket } from 'socket.io';
import { clientAddress } from '../http/client-address.js';
import { AppMetrics } from '../metrics/app-metrics.js';
import { observeSocketIo } from '../metrics/backing-metrics.js';

/** What Nest hands `bindMessageHandlers`: a gateway's `@SubscribeMessage` handlers. */
type MessageHandlers = Parameters<IoAdapter['bindMessageHandlers']>[1];

/**
 * Socket.IO on the HTTP server, with the same CORS origins as the REST API,
 * and packets no bigger than the largest valid event (`maxEventBytes`;
 * Socket.IO's default is 1 MB): a bigger one closes the connection before
 * it is parsed.
 * With REDIS_URL, rooms span instances (the Redis adapter), so a change
 * committed on one instance reaches the user's sockets on every other.
 *
 * What a live connection keeps is kept small (bench:sockets counts it per
 * idle socket): the HTTP request that opened it is replaced by the little a
 * handshake reads from it (`handshakeRequest`), and a gateway without
 * message handlers gets no per-socket event streams.
 */
export class CorsIoAdapter extends IoAdapter {
  private readonly clients: Redis[] = [];

  constructor(
    private readonly app: INestApplicationContext,
    private readonly origins: string[],
    private readonly redisUrl: string | undefined,
    private readonly maxEventBytes: number,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, {
      ...options,
      cors: { origin: this.origins, credentials: true },
      maxHttpBufferSize: this.maxEventBytes,
    } as ServerOptions);
    keepLessOfTheRequest(server);
    const metrics = this.app.get(AppMetrics, { strict: false });
    if (metrics.enabled) observeSocketIo(server, metrics);
    if (this.redisUrl) {
      const pub = new Redis(this.redisUrl, { maxRetriesPerRequest: 1 });
      const sub = pub.duplicate();
      for (const c of [pub, sub]) c.on('error', () => undefined); // reported by readiness, not thrown here
      this.clients.push(pub, sub);
      server.adapter(createAdapter(pub, sub));
    }
    return server;
  }

  /**
   * Nest calls this for every gateway of a namespace on every connection; the
   * default builds a disconnect stream per socket even when the gateway
   * handles no message, and keeps it for the socket's life.
   */
  override bindMessageHandlers(
    socket: Socket,
    handlers: MessageHandlers,
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    if (handlers.length === 0) return;
    super.bindMessageHandlers(socket, handlers, transform);
  }

  /**
   * Called for every gateway of a namespace on every connection. A socket
   * disconnects once, so a plain listener does what Nest's `once` wrapper does,
   * without the three objects per socket and gateway that wrapper keeps.
   */
  override bindClientDisconnect(client: Socket, callback: (reason: unknown) => void): void {
    client.on('disconnect', callback);
  }

  override async close(server: Server): Promise<void> {
    await super.close(server);
    await Promise.all(this.clients.splice(0).map((c) => c.quit().catch(() => undefined)));
  }
}

/**
 * Frees the HTTP request that opened each connection once the connection is
 * made, keeping only `handshakeRequest` of it. Engine.IO holds the request
 * twice for the connection's life: as `socket.request`, and through the
 * stand-in response of a WebSocket upgrade (whose listener on the TCP socket's
 * close keeps it), which only a middleware gets to see.
 */
function keepLessOfTheRequest(server: Server): void {
  const upgrades = new WeakMap<IncomingMessage, { req?: unknown }>();
  server.engine.use((req: IncomingMessage, res: unknown, next: () => void) => {
    if (!(res instanceof ServerResponse)) upgrades.set(req, res as { req?: unknown });
    next();
  });
  server.engine.on('connection', (conn: { request: IncomingMessage }) => {
    const res = upgrades.get(conn.request);
    // Past the upgrade, the stand-in only forwards the socket's close; nothing reads its request again.
    if (res) res.req = undefined;
    conn.request = handshakeRequest(conn.request);
  });
}

/** The request headers a connection keeps (`socket.handshake.headers`); nothing reads the others later. */
const KEPT_HEADERS = ['origin', 'user-agent'] as const;

/**
 * What a Socket.IO connection keeps of the HTTP request that opened it
 * (`socket.request`, and `socket.handshake` built from it for each namespace,
 * for as long as the connection lives): the URL and query, whether it came
 * over TLS, the `KEPT_HEADERS`, and the client's address as `clientAddress`
 * resolves it (TRUST_PROXY honoured), resolved once here and standing as the
 * peer's address for every namespace's handshake later. The request itself
 * (Express's prototype, raw headers, parser state) and the other headers (a
 * browser's cookies and the like) would cost an idle connection a few KiB more.
 */
export function handshakeRequest(req: IncomingMessage): IncomingMessage {
  const encrypted = Boolean((req.socket as { encrypted?: boolean } | null)?.encrypted);
  const peer = { remoteAddress: clientAddress(req), encrypted };
  const headers: IncomingMessage['headers'] = {};
  for (const name of KEPT_HEADERS) if (req.headers[name] !== undefined) headers[name] = req.headers[name];
  return {
    headers,
    url: req.url,
    method: req.method,
    _query: (req as { _query?: unknown })._query,
    socket: peer,
    connection: peer,
  } as unknown as IncomingMessage;
}
