import { Logger } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { randomUUID } from 'node:crypto';
import type { Namespace, Socket } from 'socket.io';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { SkipRateLimit } from '../../common/decorators/access.decorators.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { findInputProblem } from '../../common/input/input-limits.js';
import { AppConfig } from '../../config/app-config.js';
import { type SocketPrincipal, SocketAuthService } from '../auth/socket-auth.service.js';
import { ChatStreamService, describeError } from './chat-stream.service.js';
import { ChatRequestDto } from './dto/chat.dto.js';

/** A client's id for one stream: what `cancel` names. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const CANCEL_EVENT = 'chat:cancel';

const runKey = (userId: string, requestId: string) => `${userId}:${requestId}`;

/**
 * Chat over Socket.IO on the `/chat` namespace, for mobile and web clients.
 * The handshake carries `auth.token` (access token or API key), checked at
 * connection and again, with the tier, on every `chat` event. A client emits
 * `chat` (a ChatRequest plus an optional `request_id`) and receives `chunk`,
 * then `done` or `error`, each with the `request_id`. `cancel {request_id}`
 * from any of the user's connections aborts the model call, on whichever
 * instance runs it (through the Redis adapter when REDIS_URL is set); another
 * user's request id is ignored. A socket that disconnects aborts its streams.
 */
// The HTTP guards do not apply to socket events: this gateway authenticates the handshake and
// every `chat` event itself (token, session and tier read again), so it opts out of them explicitly.
@Public()
@SkipRateLimit()
@WebSocketGateway({ namespace: '/chat', pingInterval: 30_000 })
export class ChatGateway implements OnGatewayInit, OnGatewayDisconnect {
  private readonly logger = new Logger('ChatGateway');
  @WebSocketServer() server!: Namespace;
  /** Streams running on this instance, by user and request id. */
  private readonly runs = new Map<string, { controller: AbortController; socketId: string }>();

  constructor(
    private readonly socketAuth: SocketAuthService,
    private readonly streams: ChatStreamService,
    private readonly config: AppConfig,
  ) {}

  afterInit(server: Namespace): void {
    server.use(this.socketAuth.handshake());
    // A cancel that arrived on another instance.
    server.on(CANCEL_EVENT, (userId: string, requestId: string) => this.abortLocal(userId, requestId));
  }

  handleDisconnect(socket: Socket): void {
    for (const [key, run] of this.runs) {
      if (run.socketId === socket.id) run.controller.abort(new Error('client disconnected'));
      if (run.socketId === socket.id) this.runs.delete(key);
    }
  }

  @SubscribeMessage('chat')
  async chat(@ConnectedSocket() socket: Socket, @MessageBody() payload: unknown): Promise<void> {
    const body = (payload && typeof payload === 'object' ? payload : {}) as Record<string, unknown>;
    const requestId = typeof body.request_id === 'string' ? body.request_id : randomUUID();
    const fail = (code: string, message: string | string[]) =>
      socket.emit('error', { request_id: requestId, code, message });
    if (body.request_id !== undefined && !REQUEST_ID.test(requestId)) {
      return void fail('validation_failed', 'request_id must be 1-128 characters of A-Z a-z 0-9 . _ : -');
    }
    let user: AuthUser;
    try {
      // The tier and the session are read again for every message, as for every REST request.
      user = await this.socketAuth.authenticate((socket.data as SocketPrincipal).token);
    } catch (err) {
      fail('unauthenticated', (err as Error).message);
      return void socket.disconnect(true);
    }
    const { request_id: _ignored, ...fields } = body;
    const problem = findInputProblem(fields, 'chat');
    if (problem) return void fail('validation_failed', problem.message);
    const dto = plainToInstance(ChatRequestDto, fields);
    const errors = await validate(dto, { whitelist: true });
    if (errors.length > 0) {
      return void fail(
        'validation_failed',
        errors.flatMap((e) => Object.values(e.constraints ?? {})),
      );
    }
    try {
      this.streams.assertCanStream(dto);
    } catch (err) {
      const { code, message } = describeError(err, this.logger);
      return void fail(code, message);
    }
    const key = runKey(user.id, requestId);
    if (this.runs.has(key)) return void fail('duplicate', `request_id ${requestId} is already streaming`);
    const controller = new AbortController();
    this.runs.set(key, { controller, socketId: socket.id });
    try {
      for await (const e of this.streams.run(user, dto, controller.signal)) {
        socket.emit(e.event, { request_id: requestId, ...e.data });
      }
    } finally {
      this.runs.delete(key);
    }
  }

  @SubscribeMessage('cancel')
  cancel(@ConnectedSocket() socket: Socket, @MessageBody() payload: unknown): void {
    const user = (socket.data as SocketPrincipal).user;
    const requestId = (payload as { request_id?: unknown } | null)?.request_id;
    if (!user || typeof requestId !== 'string' || !REQUEST_ID.test(requestId)) return;
    if (this.abortLocal(user.id, requestId)) return;
    if (this.config.redisUrl) this.server.serverSideEmit(CANCEL_EVENT, user.id, requestId);
  }

  private abortLocal(userId: string, requestId: string): boolean {
    const run = this.runs.get(runKey(userId, requestId));
    if (!run) return false;
    run.controller.abort(new Error('cancelled by the client'));
    return true;
  }
}
