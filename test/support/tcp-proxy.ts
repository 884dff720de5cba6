import { createServer, connect, type NetConnectOpts, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of a backing service (PostgreSQL, S3): `cut()` stops
 * accepting and drops every open connection, as a server that went away
 * does; `restore()` listens again on the same port. `hold()` keeps the
 * connections up but relays nothing towards the target (a service that has
 * stopped answering) until `release()`, which delivers what waited, in order.
 */
export class TcpProxy {
  private server?: Server;
  private readonly open = new Set<Socket>();
  port = 0;
  /** Bytes relayed from clients to the target so far: how much a client asked of the backing service. */
  bytesToTarget = 0;
  /** While held: the writes towards the target that wait for `release()`. */
  private held?: Array<() => void>;

  constructor(private readonly target: NetConnectOpts) {}

  /**
   * A relay to the server `url` names: its host and port, or, for a
   * PostgreSQL URL with a socket directory in `host` (the embedded
   * database's), that directory's socket.
   */
  static to(url: string): TcpProxy {
    const u = new URL(url);
    const dir = u.searchParams.get('host');
    if (dir?.startsWith('/')) return new TcpProxy({ path: `${dir}/.s.PGSQL.${u.port || 5432}` });
    return new TcpProxy({ host: u.hostname, port: Number(u.port) });
  }

  async start(): Promise<this> {
    await this.listen(0);
    return this;
  }

  /** `url` with its host and port replaced by the proxy's (and no socket directory). */
  rewrite(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    u.searchParams.delete('host');
    return u.toString();
  }

  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    for (const s of this.open) s.destroy();
    this.open.clear();
    await closed;
    this.server = undefined;
  }

  async restore(): Promise<void> {
    await this.listen(this.port);
  }

  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    for (const deliver of waiting) deliver();
  }

  async stop(): Promise<void> {
    this.release();
    await this.cut();
  }

  private listen(port: number): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target);
      for (const s of [client, upstream]) {
        this.open.add(s);
        s.on('close', () => this.open.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      const towardsTarget = (deliver: () => void) => (this.held ? this.held.push(deliver) : deliver());
      client.on('data', (chunk: Buffer) => {
        this.bytesToTarget += chunk.length;
        towardsTarget(() => upstream.write(chunk));
      });
      client.on('end', () => towardsTarget(() => upstream.end()));
      upstream.pipe(client);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        this.port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }
}
