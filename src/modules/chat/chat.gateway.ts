import { Logger } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { randomUUID } from 'node:crypto';
import type { Namespace, Socket } from 'socket.io';
import { SkipRateLimit } from '../../common/decorators/access.decorators.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { ConnectionEventCount, SocketEventLimiter } from '../../common/rate-limit/socket-event-limiter.js';
import { ConnectionsService } from '../../common/realtime/connections.service.js';
import { type SocketPrincipal, SocketAuthService } from '../auth/index.js';
import { ChatRunsService, requestIdOf, type StreamFeed } from './chat-runs.service.js';
import { describeError } from './chat-stream.service.js';

/**
 * Chat over Socket.IO on the `/chat` namespace, for mobile and web clients.
 * The handshake carries `auth.token` (access token or API key), checked at
 * connection and again, with the tier and the rate limit, on every `chat`
 * event. A client emits `chat` (a ChatRequest plus an optional `request_id`)
 * and receives `chunk`, then `done` or `error`, each with the `request_id`;
 * a `chat` naming a request id that is still streaming attaches to it.
 * `cancel {request_id}` from any of the user's connections aborts the model
 * call, on whichever instance runs it; another user's request id is ignored.
 * `resume {request_id, after_seq}` sends the events after `after_seq` (the
 * last seq the client got), live or from the log, on any instance; an unknown
 * or another user's request id gets `error` `not_found`.
 * A socket that disconnects stops following its streams (a stream nobody
 * follows runs on for the grace period, then is aborted).
 * Every event is counted against the socket's and the account's limits
 * before anything else (a 429 `rate_limited` `error`, with `retry_after`);
 * a socket that keeps sending past its limit is disconnected.
 */
// The HTTP guards do not apply to socket events: this gateway authenticates the handshake and
// every `chat` event itself (token, session, tier and rate limit), so it opts out of them explicitly.
@Public()
@SkipRateLimit()
@WebSocketGateway({ namespace: '/chat', pingInterval: 30_000 })
export class ChatGateway implements OnGatewayInit, OnGatewayDisconnect {
  private readonly logger = new Logger('ChatGateway');
  /** What each socket follows, so a disconnect stops following. */
  private readonly following = new Map<string, AbortController>();

  /** Each socket's own event count, for the per-connection limit. */
  private readonly counts = new WeakMap<Socket, ConnectionEventCount>();

  constructor(
    private readonly socketAuth: SocketAuthService,
    private readonly runs: ChatRunsService,
    private readonly connections: ConnectionsService,
    private readonly limiter: SocketEventLimiter,
  ) {}

  afterInit(server: Namespace): void {
    server.use(this.socketAuth.handshake());
    server.use(this.connections.socketIo());
  }

  handleDisconnect(socket: Socket): void {
    this.following.get(socket.id)?.abort();
    this.following.delete(socket.id);
  }

  /**
   * Counts an event before any other work (no database: the principal is the
   * handshake's); false when it is over a limit, after telling the client
   * (and disconnecting a socket that keeps flooding).
   */
  private async admit(socket: Socket, requestId: string | undefined): Promise<boolean> {
    const user = (socket.data as SocketPrincipal).user;
    if (!user) return false;
    let count = this.counts.get(socket);
    if (!count) this.counts.set(socket, (count = new ConnectionEventCount()));
    try {
      await this.limiter.consume(user, count);
      return true;
    } catch (err) {
      if (this.limiter.isFlooding(count)) {
        socket.disconnect(true);
        return false;
      }
      socket.emit('error', {
        ...describeError(err, this.logger),
        ...(requestId ? { request_id: requestId } : {}),
      });
      return false;
    }
  }

  @SubscribeMessage('chat')
  async chat(@ConnectedSocket() socket: Socket, @MessageBody() payload: unknown): Promise<void> {
    const raw = (payload as { request_id?: unknown } | null)?.request_id;
    // The id labels every answer, the error about a malformed id too (validation reports it).
    const requestId =
      raw === undefined ? randomUUID() : (typeof raw === 'string' ? raw : JSON.stringify(raw)).slice(0, 128);
    const body =
      raw === undefined && payload && typeof payload === 'object'
        ? { ...payload, request_id: requestId }
        : payload;
    if (!(await this.admit(socket, requestId))) return;
    const principal = socket.data as SocketPrincipal;
    await this.serve(socket, requestId, () => this.runs.startFromSocket(principal.token, body));
  }

  @SubscribeMessage('resume')
  async resume(@ConnectedSocket() socket: Socket, @MessageBody() payload: unknown): Promise<void> {
    const principal = socket.data as SocketPrincipal;
    const raw = (payload as { request_id?: unknown } | null)?.request_id;
    const requestId = (typeof raw === 'string' ? raw : JSON.stringify(raw ?? null)).slice(0, 128);
    if (!(await this.admit(socket, requestId))) return;
    await this.serve(socket, requestId, () => this.runs.resumeFromSocket(principal.token, payload));
  }

  /** Emits a stream's events to the socket, labelled with the request id, until it ends or the socket goes. */
  private async serve(socket: Socket, requestId: string, open: () => Promise<StreamFeed>): Promise<void> {
    let run: StreamFeed;
    try {
      run = await open();
    } catch (err) {
      const error = describeError(err, this.logger);
      socket.emit('error', { ...error, request_id: requestId });
      if (error.code === 'unauthenticated' || error.code === 'session_ended') socket.disconnect(true);
      return;
    }
    let gone = this.following.get(socket.id);
    if (socket.disconnected) {
      // Gone while the stream was starting: follow nothing (a run followed by nobody is left to its grace period).
      gone = new AbortController();
      gone.abort();
    } else if (!gone) {
      this.following.set(socket.id, (gone = new AbortController()));
    }
    for await (const e of run.follow(gone.signal)) {
      socket.emit(e.event, { request_id: requestId, ...e.data });
    }
  }

  @SubscribeMessage('cancel')
  async cancel(@ConnectedSocket() socket: Socket, @MessageBody() payload: unknown): Promise<void> {
    const user = (socket.data as SocketPrincipal).user;
    const requestId = requestIdOf(payload);
    if (!(await this.admit(socket, requestId))) return;
    if (user && requestId) await this.runs.cancel(user.id, requestId);
  }
}
