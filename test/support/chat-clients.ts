import type { Socket } from 'socket.io-client';
import WebSocket from 'ws';
import type { TestUser } from './users.js';
import { connectSocket } from './wait.js';

/** One stream event as a client saw it; the plain WebSocket shows no seq, so its chunks are numbered by count. */
export interface SeenEvent {
  event: 'chunk' | 'done' | 'error';
  seq: number;
  data: Record<string, unknown>;
}

/** What one connection got: the events it accepted, and whether the stream ended on it. */
export interface Leg {
  events: SeenEvent[];
  ended: boolean;
  /** For a refused start or resume: the HTTP status (SSE) or undefined. */
  status?: number;
}

export type Transport = 'sse' | 'socket' | 'ws';
export const TRANSPORTS: Transport[] = ['sse', 'socket', 'ws'];

/**
 * Opens a stream (`{chat: body}`) or resumes one (`{resume: {request_id, after_seq}}`) on the server at
 * `url` over `transport`, and accepts events until the stream ends or `stopAfter` chunks arrived; then it
 * drops the connection abruptly, as a phone changing networks does (whatever was in flight is lost).
 */
export function leg(
  transport: Transport,
  url: string,
  user: TestUser,
  open: { chat: Record<string, unknown> } | { resume: { request_id: string; after_seq: number } },
  stopAfter = Infinity,
  sockets: Socket[] = [],
): Promise<Leg> {
  if (transport === 'sse') return sseLeg(url, user, open, stopAfter);
  if (transport === 'socket') return socketLeg(url, user, open, stopAfter, sockets);
  return wsLeg(url, user, open, stopAfter);
}

type Open = Parameters<typeof leg>[3];

async function sseLeg(url: string, user: TestUser, open: Open, stopAfter: number): Promise<Leg> {
  const abort = new AbortController();
  const res =
    'chat' in open
      ? await fetch(`${url}/api/v1/chat/stream`, {
          method: 'POST',
          headers: { ...user.auth, 'content-type': 'application/json' },
          body: JSON.stringify(open.chat),
          signal: abort.signal,
        })
      : await fetch(`${url}/api/v1/chat/stream/${encodeURIComponent(open.resume.request_id)}`, {
          headers: { ...user.auth, 'last-event-id': String(open.resume.after_seq) },
          signal: abort.signal,
        });
  const out: Leg = { events: [], ended: false, status: res.status };
  if (res.status !== 200) {
    out.events.push({ event: 'error', seq: -1, data: (await res.json()) as Record<string, unknown> });
    return out;
  }
  try {
    for await (const e of sseEvents(res)) {
      out.events.push(e);
      if (e.event !== 'chunk') return { ...out, ended: true };
      if (out.events.length >= stopAfter) break;
    }
  } finally {
    abort.abort();
  }
  return out;
}

async function* sseEvents(res: Response): AsyncGenerator<SeenEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(piece, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.startsWith(':')) continue;
      const event = /^event: (.*)$/m.exec(block)![1] as SeenEvent['event'];
      const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]) as Record<string, unknown>;
      const id = Number(/^id: (.*)$/m.exec(block)![1]);
      if (id !== data.seq) throw new Error(`SSE id ${id} differs from the event's seq ${String(data.seq)}`);
      yield { event, seq: id, data };
    }
  }
}

async function socketLeg(
  url: string,
  user: TestUser,
  open: Open,
  stopAfter: number,
  sockets: Socket[],
): Promise<Leg> {
  const s = await connectSocket(`${url}/chat`, user.tokens.access_token, sockets);
  const requestId = 'chat' in open ? String(open.chat.request_id) : open.resume.request_id;
  return new Promise<Leg>((resolve) => {
    const out: Leg = { events: [], ended: false };
    s.onAny((event: SeenEvent['event'], data: Record<string, unknown>) => {
      if (data?.request_id !== requestId || out.ended || s.disconnected) return;
      out.events.push({ event, seq: Number(data.seq), data });
      if (event !== 'chunk') out.ended = true;
      if (out.ended || out.events.length >= stopAfter) {
        s.disconnect();
        resolve(out);
      }
    });
    if ('chat' in open) s.emit('chat', open.chat);
    else s.emit('resume', open.resume);
    if (stopAfter === 0) {
      s.disconnect();
      resolve(out);
    }
  });
}

async function wsLeg(url: string, user: TestUser, open: Open, stopAfter: number): Promise<Leg> {
  const ws = new WebSocket(
    `${url.replace('http', 'ws')}/api/v1/chat/stream?token=${user.tokens.access_token}`,
  );
  ws.on('error', () => undefined);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let seq = 'chat' in open ? -1 : open.resume.after_seq;
  return new Promise<Leg>((resolve) => {
    const out: Leg = { events: [], ended: false };
    const finish = () => {
      ws.terminate();
      resolve(out);
    };
    ws.on('message', (raw) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const text = (raw as Buffer).toString('utf8');
      const final = text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      if (final?.done === true || final?.error !== undefined) {
        out.ended = true;
        const data = (final.error as Record<string, unknown>) ?? final;
        out.events.push({ event: final.done === true ? 'done' : 'error', seq: ++seq, data });
        return finish();
      }
      out.events.push({ event: 'chunk', seq: ++seq, data: { text } });
      if (out.events.length >= stopAfter) finish();
    });
    const frame =
      'chat' in open ? open.chat : { resume: open.resume.request_id, after_seq: open.resume.after_seq };
    ws.send(JSON.stringify(frame));
    if (stopAfter === 0) finish();
  });
}

/** The text of a leg's chunks, joined. */
export const textOf = (events: SeenEvent[]) =>
  events
    .filter((e) => e.event === 'chunk')
    .map((e) => String(e.data.text))
    .join('');

/** A small seeded generator (mulberry32), so a failing run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
