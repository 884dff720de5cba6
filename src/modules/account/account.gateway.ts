import type { OnModuleDestroy } from '@nestjs/common';
import { WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Server } from 'socket.io';
import { userRoom } from '../../common/realtime/rooms.js';
import { AccountEvents, type ExportReadyEvent } from './account.events.js';

/**
 * `account:export_ready {id, expires_at}` to the account's sockets on `/`
 * (the storage gateway authenticates them and joins each to its user's
 * room); the client then asks GET /account/export/{id} for its link.
 */
@WebSocketGateway()
export class AccountGateway implements OnModuleDestroy {
  @WebSocketServer() server!: Server;

  private readonly onReady = (userId: string, event: ExportReadyEvent) =>
    this.server.to(userRoom(userId)).emit('account:export_ready', event);

  constructor(private readonly events: AccountEvents) {
    events.on('exportReady', this.onReady);
  }

  onModuleDestroy(): void {
    this.events.off('exportReady', this.onReady);
  }
}
