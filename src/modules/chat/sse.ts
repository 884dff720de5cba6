import type { Request, Response } from 'express';
import type { ChatStreamEvent } from './chat-stream.service.js';

export const SSE_PING_MS = 30_000;

/**
 * Serves a chat stream as Server-Sent Events: headers that stop proxies
 * buffering, one `event:` per chat event with its seq as the event `id:` (what
 * a client sends back as Last-Event-ID to resume), a `: ping` comment every 30 s, and
 * `abort` called when the client goes away (the stream then runs on for its grace period).
 */
export async function serveSse(
  req: Request,
  res: Response,
  events: (signal: AbortSignal) => AsyncIterable<ChatStreamEvent>,
  pingMs = SSE_PING_MS,
): Promise<void> {
  const abort = new AbortController();
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  res.socket?.setNoDelay(true);

  const gone = () => abort.abort(new Error('client disconnected'));
  res.on('close', gone);
  req.on('aborted', gone);
  const ping = setInterval(() => res.write(': ping\n\n'), pingMs);
  ping.unref();
  try {
    for await (const e of events(abort.signal)) {
      if (res.writableEnded || res.destroyed) break;
      res.write(`id: ${e.data.seq}\nevent: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
    }
  } finally {
    clearInterval(ping);
    res.off('close', gone);
    if (!res.writableEnded) res.end();
  }
}
