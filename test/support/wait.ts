import { io, type Socket } from 'socket.io-client';

/** Polls `check` every 20 ms until it holds; throws after `ms`. */
export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A Socket.IO client connected to `url` (a namespace URL) with `auth.token`,
 * websocket only and without reconnection; rejects with the connect_error.
 * Every socket is pushed to `sockets` so the suite can close them.
 */
export function connectSocket(url: string, token: string, sockets: Socket[]): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const s = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(s);
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}
