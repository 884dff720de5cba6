// The baseline of bench/sockets.mjs, in a process of its own like the app: a bare Socket.IO server
// (default options) on node:http. A socket joins the room named by its handshake's auth.token (no
// authentication); POST /emit {"room"} emits one `storage:changed` event with a fresh id to that room
// (the Redis adapter's when BARE_REDIS_URL is set) and answers 201 {"id"}. The time from a write to
// its arrival here is what Socket.IO and the network cost alone. Over IPC: 'mem:gc' answers
// { mem: { rss, heapUsed } } after a full GC (run with --expose-gc).
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Server } from 'socket.io';

const http = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/emit') return res.writeHead(404).end();
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    const { room } = JSON.parse(Buffer.concat(parts).toString('utf8'));
    const id = randomUUID();
    io.to(room).emit('storage:changed', { id, table: 'notes', version: 1, op: 'upsert' });
    res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id }));
  });
});
const io = new Server(http);
const clients = [];
if (process.env.BARE_REDIS_URL) {
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const { Redis } = await import('ioredis');
  const pub = new Redis(process.env.BARE_REDIS_URL);
  const sub = pub.duplicate();
  clients.push(pub, sub);
  io.adapter(createAdapter(pub, sub));
}
io.on('connection', (socket) => {
  const room = socket.handshake.auth?.token;
  if (typeof room === 'string') void socket.join(room);
});
process.on('message', (m) => {
  if (m === 'mem:gc') {
    globalThis.gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    process.send({ mem: { rss, heapUsed } });
  } else if (m === 'stop') {
    void io.close();
    for (const c of clients) c.disconnect();
    process.exit(0);
  }
});
http.listen(0, '127.0.0.1', () => process.send({ port: http.address().port }));
