import { Injectable } from '@nestjs/common';
import type { Server } from 'socket.io';
import { userRoom } from './rooms.js';

/**
 * Pushes an event to every socket of one account on the default namespace `/`
 * (its user's room; on every instance with REDIS_URL), for any module.
 *
 * One gateway owns `/` (the storage gateway: it authenticates each socket and
 * joins it to its user's room) and attaches its server here; the modules that
 * only push are not gateways, because Nest wires every gateway of a namespace
 * into every connection (a listener and its closures per socket, each kept for
 * the socket's life), which an idle socket would pay for nothing.
 *
 * The push leaves after the current I/O callback: a write's HTTP answer is not
 * held back while its event is written to a thousand sockets. Pushes keep
 * their order. Before a server is attached (no gateway on `/`) a push goes
 * nowhere: pushes are hints; the changes feed and the REST routes are the truth.
 */
@Injectable()
export class UserPush {
  private server: Server | undefined;

  attach(server: Server): void {
    this.server = server;
  }

  toUser(userId: string, event: string, payload: unknown): void {
    const server = this.server;
    if (!server) return;
    setImmediate(() => server.to(userRoom(userId)).emit(event, payload));
  }
}
