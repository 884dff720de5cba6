import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { AuthUser } from '../../common/auth/auth-user.js';
import type { AppException } from '../../common/errors/app.exception.js';
import { API_PREFIX } from '../../common/http/api-prefix.js';
import { ConnectionEventCount, SocketEventLimiter } from '../../common/rate-limit/socket-event-limiter.js';
import { type ConnectionHandle, ConnectionsService } from '../../common/realtime/connections.service.js';
import { SocketAuthService } from '../auth/index.js';
import { ChatRunsService, type StreamFeed } from './chat-runs.service.js';
import { type ChatStreamEvent, describeError, type StreamError } from './chat-stream.service.js';
import { MAX_CHAT_EVENT_BYTES } from './dto/chat.dto.js';

export const CHAT_WS_PATH = `/${API_PREFIX}/chat/stream`;
export const WS_PING_MS = 30_000;

/**
 * Close codes: 4401 for credentials, also when they end while connected (what the desktop clients
 * already handle); 4400 for a frame that is not a JSON ChatRequest; 4429 for too many connections
 * of the account; 1008 for a client that keeps sending past its limit.
 */
export const WS_CLOSE = {
  unauthorized: 4401,
  badFrame: 4400,
  tooManyConnections: 4429,
  flooding: 1008,
  shutdown: 1001,
  tryAgainLater: 1013,
} as const;

interface Client {
  /** The credentials checked at connection: frames wait for it; a bad token closes with 4401. */
  ready: Promise<boolean>;
  /** Who authenticated, once `ready` said so (the account's event limit counts under it). */
  user?: AuthUser;
  /** Frames in this minute, counted as they arrive, before anything else. */
  count: ConnectionEventCount;
  /** The connection counted against its account's cap (released when it closes). */
  handle?: ConnectionHandle;
  alive: boolean;
  /** Aborted when the connection closes: the stream it follows is left (to its grace period if nobody else follows). */
  gone: AbortController;
  /** Requests are answered one after another, in the order they came: the one running, then these. */
  queue: Promise<void>;
  waiting: number;
}

/** Requests a connection may have waiting behind the one streaming. */
const MAX_WAITING = 4;

/**
 * The plain WebSocket the existing desktop clients speak, served beside
 * Socket.IO on the same port: `GET /api/v1/chat/stream?token=<access token or
 * API key>`. Each ChatRequest frame (JSON, with an optional `request_id`) is
 * answered by one text frame per chunk, then a JSON frame
 * `{"done": true, "response", "actions", "agent"}`, or `{"error": {"code",
 * "message"}}`; the connection then takes the next request (requests sent
 * meanwhile wait their turn, at most 4). A frame `{"resume": request_id,
 * "after_seq": n}` (the first of a new connection) sends that stream's chunks
 * after seq n (n + 1 chunk frames received), live or from the log, then its
 * final frame. Closing the connection leaves the stream to its grace period
 * (then the model call is aborted). A ping frame every 30 s (a client that
 * misses one is dropped). A bad token closes with 4401, a frame that is not
 * JSON with 4400 and the reason.
 */
@Injectable()
export class ChatWebSocketServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ChatWebSocket');
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CHAT_EVENT_BYTES });
  private readonly clients = new Map<WebSocket, Client>();
  private heartbeat: NodeJS.Timeout | undefined;
  private server: Server | undefined;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Other upgrades (Socket.IO's /socket.io/) belong to their own handlers. No URL parsing before
    // the path matches: a malformed request line must not throw inside the server's event.
    const raw = req.url ?? '/';
    const query = raw.indexOf('?');
    if ((query < 0 ? raw : raw.slice(0, query)) !== CHAT_WS_PATH) return;
    const token = new URLSearchParams(query < 0 ? '' : raw.slice(query + 1)).get('token') ?? undefined;
    // An address past its failed-authentication limit is refused before the upgrade completes (HTTP
    // 429); below it, a bad token still upgrades and closes with 4401, as clients expect.
    const refusal = this.socketAuth.refusal(token, req);
    if (refusal) return refuseUpgrade(socket, refusal);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws, token, req));
  };

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly runs: ChatRunsService,
    private readonly socketAuth: SocketAuthService,
    private readonly connections: ConnectionsService,
    private readonly limiter: SocketEventLimiter,
  ) {}

  onApplicationBootstrap(): void {
    // An application context (a CLI such as usage:verify) has no HTTP server to serve on.
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return;
    this.server = server;
    this.server.on('upgrade', this.onUpgrade);
    this.heartbeat = setInterval(() => this.ping(), WS_PING_MS);
    this.heartbeat.unref();
  }

  /** Before the HTTP server closes (it waits for every connection, upgraded ones too): say goodbye, then cut. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    this.server?.off('upgrade', this.onUpgrade);
    const open = [...this.clients.keys()];
    const closed = Promise.all(open.map((ws) => new Promise((resolve) => ws.once('close', resolve))));
    for (const ws of open) ws.close(WS_CLOSE.shutdown, 'server shutting down');
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    for (const ws of open) ws.terminate();
    this.wss.close();
  }

  private serve(ws: WebSocket, token: string | undefined, req: IncomingMessage): void {
    const ready = this.socketAuth.authenticateConnection(token, req).then(
      (user) => this.admit(ws, client, user),
      (err: unknown) => {
        const { code, message } = describeError(err, this.logger);
        // Only bad credentials are 4401 (a client then signs in again; the attempt that passed the
        // failed-authentication limit too: the next upgrade gets the 429); our failure is 1013.
        if (code === 'unauthenticated' || code === 'session_ended' || code === 'rate_limited') {
          this.closeUnauthorized(ws, message);
        } else ws.close(WS_CLOSE.tryAgainLater, closeReason(`${code}: ${String(message)}`));
        return false;
      },
    );
    const client: Client = {
      ready,
      count: new ConnectionEventCount(),
      alive: true,
      gone: new AbortController(),
      queue: ready.then(),
      waiting: 0,
    };
    this.clients.set(ws, client);
    ws.on('pong', () => (client.alive = true));
    ws.on('close', () => {
      client.gone.abort();
      client.handle?.release();
      this.clients.delete(ws);
    });
    ws.on('error', (err) => this.logger.warn(`WebSocket error: ${err.message}`));
    ws.on('message', (data, isBinary) => this.enqueue(ws, client, token, data, isBinary));
  }

  /**
   * A frame as it arrives: counted against the connection's limit before anything else (past it,
   * one error frame and the connection is closed: the client is flooding), then queued behind the
   * requests before it.
   */
  private enqueue(
    ws: WebSocket,
    client: Client,
    token: string | undefined,
    data: RawData,
    isBinary: boolean,
  ): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    try {
      this.limiter.consumeOnConnection(client.count);
    } catch (err) {
      const error = describeError(err, this.logger);
      this.sendError(ws, error);
      return ws.close(WS_CLOSE.flooding, closeReason(`${error.code}: ${String(error.message)}`));
    }
    if (client.waiting >= MAX_WAITING) {
      return this.sendError(ws, {
        code: 'rate_limited',
        message: `at most ${MAX_WAITING} requests can wait on one connection`,
      });
    }
    client.waiting++;
    client.queue = client.queue
      .then(() => this.onFrame(ws, client, token, data, isBinary))
      .catch((err: unknown) => void describeError(err, this.logger))
      .finally(() => client.waiting--);
  }

  private async onFrame(
    ws: WebSocket,
    client: Client,
    token: string | undefined,
    data: RawData,
    isBinary: boolean,
  ): Promise<void> {
    if (!(await client.ready) || !client.user) return;
    let payload: unknown;
    try {
      if (isBinary) throw new Error('binary frames are not accepted');
      payload = JSON.parse(rawText(data));
    } catch (err) {
      const reason = `each frame must be a JSON ChatRequest: ${(err as Error).message}`;
      return ws.close(WS_CLOSE.badFrame, closeReason(reason));
    }
    if (client.gone.signal.aborted) return;
    const resume = (payload as { resume?: unknown } | null)?.resume;
    const requestId = resume ?? (payload as { request_id?: unknown } | null)?.request_id;
    try {
      await this.limiter.consumeForAccount(client.user);
    } catch (err) {
      return this.sendError(ws, describeError(err, this.logger), requestId);
    }
    const run = await this.open(token, payload, resume).catch((err: unknown) => {
      const error = describeError(err, this.logger);
      if (error.code === 'unauthenticated' || error.code === 'session_ended') {
        this.closeUnauthorized(ws, error.message);
      } else {
        this.sendError(ws, error, requestId);
      }
    });
    if (!run) return;
    for await (const e of run.follow(client.gone.signal)) {
      if (ws.readyState !== WebSocket.OPEN) break;
      this.sendEvent(ws, e, requestId);
    }
  }

  /**
   * Counts an authenticated connection against its account's cap (closed with
   * 4429 past it) and lets a revocation of its credentials close it (4401).
   */
  private admit(ws: WebSocket, client: Client, user: AuthUser): boolean {
    const handle = this.connections.register(user, (reason) => {
      ws.close(WS_CLOSE.unauthorized, closeReason(`${reason.code}: ${reason.message}`));
    });
    if (!handle) {
      const cap = this.connections.maxPerAccount;
      ws.close(WS_CLOSE.tooManyConnections, `rate_limited: at most ${cap} live connections per account`);
      return false;
    }
    if (ws.readyState !== WebSocket.OPEN) {
      handle.release();
      return false;
    }
    client.user = user;
    client.handle = handle;
    return true;
  }

  /** A ChatRequest starts (or attaches to) a stream; `{"resume": request_id, "after_seq"}` resumes one. */
  private open(token: string | undefined, payload: unknown, resume: unknown): Promise<StreamFeed> {
    if (resume === undefined) return this.runs.startFromSocket(token, payload);
    const afterSeq = (payload as { after_seq?: unknown }).after_seq;
    return this.runs.resumeFromSocket(token, { request_id: resume, after_seq: afterSeq });
  }

  /** The earlier API's frames: a chunk's bare text, the final `{"done", …}` or `{"error"}` (no seq: a client counts chunks). */
  private sendEvent(ws: WebSocket, e: ChatStreamEvent, requestId: unknown): void {
    if (e.event === 'chunk') return ws.send(e.data.text);
    const { seq: _seq, ...data } = e.data;
    if (e.event === 'done') ws.send(JSON.stringify(data));
    else this.sendError(ws, data as StreamError, requestId);
  }

  private closeUnauthorized(ws: WebSocket, message: string | string[]): void {
    ws.close(WS_CLOSE.unauthorized, closeReason(`unauthorized: ${String(message)}`));
  }

  private sendError(ws: WebSocket, error: StreamError, requestId?: unknown): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    const id = typeof requestId === 'string' ? { request_id: requestId } : {};
    ws.send(JSON.stringify({ error: { ...error, ...id } }));
  }

  /** A ping to every client; one that did not answer the last ping is dropped. */
  private ping(): void {
    for (const [ws, client] of this.clients) {
      if (!client.alive) {
        ws.terminate();
        continue;
      }
      client.alive = false;
      ws.ping();
    }
  }
}

/** Answers an upgrade request 429 with the usual JSON error body and Retry-After, and closes its socket. */
function refuseUpgrade(socket: Duplex, refusal: AppException): void {
  const retryAfter = Number(refusal.extra.retry_after ?? 60);
  const body = JSON.stringify({
    statusCode: 429,
    error: STATUS_CODES[429],
    code: refusal.appCode,
    message: refusal.message,
    retry_after: retryAfter,
  });
  socket.on('error', () => undefined);
  socket.end(
    `HTTP/1.1 429 ${STATUS_CODES[429]}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Retry-After: ${retryAfter}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

/** A close reason is at most 123 bytes of UTF-8: cut on a character boundary. */
function closeReason(text: string): string {
  let out = text;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}
