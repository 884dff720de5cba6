import type { IncomingMessage } from 'node:http';

/**
 * The client's address, as Express's `req.ip` has it: the peer, or with
 * TRUST_PROXY the address the trusted proxies forwarded. Works on requests
 * Express never routed (WebSocket and Socket.IO upgrades): the server builds
 * every request on Express's prototype, which carries the app and its
 * `trust proxy` setting. Without it (a server Nest built), the peer address.
 */
export function clientAddress(req: IncomingMessage): string {
  const viaExpress = req as IncomingMessage & { app?: unknown; ip?: string };
  return (viaExpress.app ? viaExpress.ip : undefined) ?? req.socket?.remoteAddress ?? 'unknown';
}
