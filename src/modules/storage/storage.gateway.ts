import type { OnModuleDestroy } from '@nestjs/common';
import {
  type OnGatewayConnection,
  type OnGatewayInit,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { type SocketPrincipal, SocketAuthService } from '../auth/index.js';
import { ConnectionsService } from '../../common/realtime/connections.service.js';
import { userRoom } from '../../common/realtime/rooms.js';
import { UserPush } from '../../common/realtime/user-push.js';
import { StorageEvents, type StorageChangedEvent, type StorageQuotaEvent } from './storage.events.js';

/**
 * Real-time hints on the default namespace: a client connects with
 * `auth: { token }` (access token or API key) and joins its user's room;
 * committed changes arrive as `storage:changed`, quota alerts as
 * `storage:quota`. The changes feed stays the truth: a client that was away
 * catches up from its cursor.
 *
 * The only gateway on `/`: it attaches the server to UserPush, through which
 * the other modules push to the same rooms (see UserPush for why they are not
 * gateways of their own).
 */
@WebSocketGateway()
export class StorageGateway implements OnGatewayInit, OnGatewayConnection, OnModuleDestroy {
  @WebSocketServer() server!: Server;

  private readonly onChanged = (userId: string, e: StorageChangedEvent) =>
    this.push.toUser(userId, 'storage:changed', e);
  private readonly onQuota = (userId: string, e: StorageQuotaEvent) =>
    this.push.toUser(userId, 'storage:quota', e);

  constructor(
    private readonly events: StorageEvents,
    private readonly socketAuth: SocketAuthService,
    private readonly connections: ConnectionsService,
    private readonly push: UserPush,
  ) {
    events.on('changed', this.onChanged);
    events.on('quota', this.onQuota);
  }

  afterInit(server: Server): void {
    // Sockets here only receive pushes: nothing checks their token again after the handshake.
    server.use(this.socketAuth.handshake({ keepToken: false }));
    server.use(this.connections.socketIo());
    this.push.attach(server);
  }

  async handleConnection(socket: Socket): Promise<void> {
    const user = (socket.data as SocketPrincipal).user;
    if (!user) return void socket.disconnect(true);
    await socket.join(userRoom(user.id));
  }

  onModuleDestroy(): void {
    this.events.off('changed', this.onChanged);
    this.events.off('quota', this.onQuota);
  }
}
