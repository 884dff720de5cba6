import { type OnModuleDestroy } from '@nestjs/common';
import { WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Server } from 'socket.io';
import { userRoom } from '../../common/realtime/rooms.js';
import { type UsageAlertEvent, UsageEvents } from './usage.events.js';

/**
 * Pushes the day's 80 % alert as `usage:alert {date, spent_usd, budget_usd}`
 * to the user's room on `/` (the storage gateway authenticates the sockets
 * there and puts each in its user's room; with REDIS_URL, rooms span instances).
 */
@WebSocketGateway()
export class UsageGateway implements OnModuleDestroy {
  @WebSocketServer() server!: Server;

  private readonly onAlert = (userId: string, e: UsageAlertEvent) =>
    this.server.to(userRoom(userId)).emit('usage:alert', e);

  constructor(private readonly events: UsageEvents) {
    events.on('alert', this.onAlert);
  }

  onModuleDestroy(): void {
    this.events.off('alert', this.onAlert);
  }
}
