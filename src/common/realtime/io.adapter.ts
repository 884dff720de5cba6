import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { Server, ServerOptions } from 'socket.io';
import { AppMetrics } from '../metrics/app-metrics.js';
import { observeSocketIo } from '../metrics/backing-metrics.js';

/**
 * Socket.IO on the HTTP server, with the same CORS origins as the REST API,
 * and packets no bigger than the largest valid event (`maxEventBytes`;
 * Socket.IO's default is 1 MB): a bigger one closes the connection before
 * it is parsed.
 * With REDIS_URL, rooms span instances (the Redis adapter), so a change
 * committed on one instance reaches the user's sockets on every other.
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

  override async close(server: Server): Promise<void> {
    await super.close(server);
    await Promise.all(this.clients.splice(0).map((c) => c.quit().catch(() => undefined)));
  }
}
