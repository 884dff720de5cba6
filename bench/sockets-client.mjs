// A process of Socket.IO clients for bench/sockets.mjs, driven over the IPC channel, so the clients'
// CPU is not the server's (nor the writer's). Arrival times are process.hrtime (CLOCK_MONOTONIC, the
// same clock in every process of this machine), in ms.
//
// { connect: { url, tokens, concurrency } }: one socket per token (repeat a token for several sockets
//   of one account), each its own connection (forceNew), websocket only; answers { connected, failed }.
// { expect: n }: an event id is reported ({ arrived: { id, times, sockets } }) once n of this process's
//   sockets received it (n = 1: every arrival is reported at once).
// { collect: true }: answers { counts: { id: arrivals } } of every event since the last collect (a check
//   that no event reached more sockets than expected), and forgets them.
// { close: true }: closes every socket; answers { closed }.
import { io } from 'socket.io-client';

const now = () => Number(process.hrtime.bigint()) / 1e6;
/** @type {import('socket.io-client').Socket[]} */
let sockets = [];
let expected = 1;
/** Per event id: arrival times and the index of each socket that got it. */
const arrivals = new Map();

function onEvent(index, event) {
  const at = now();
  const id = event?.id;
  let a = arrivals.get(id);
  if (!a) arrivals.set(id, (a = { times: [], sockets: [] }));
  a.times.push(at);
  a.sockets.push(index);
  if (a.times.length === expected) process.send({ arrived: { id, times: a.times, sockets: a.sockets } });
}

function connectOne(url, token, index) {
  return new Promise((resolve) => {
    const socket = io(url, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 60_000,
    });
    socket.on('storage:changed', (e) => onEvent(index, e));
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      resolve(err);
    });
  });
}

process.on('message', (m) => void handle(m));

async function handle(m) {
  if (m.connect) {
    const { url, tokens, concurrency = 50 } = m.connect;
    let failed = 0;
    let firstError;
    const start = sockets.length;
    for (let i = 0; i < tokens.length; i += concurrency) {
      const batch = await Promise.all(
        tokens.slice(i, i + concurrency).map((t, j) => connectOne(url, t, start + i + j)),
      );
      for (const s of batch) {
        if (s instanceof Error) {
          failed++;
          firstError ??= s.message;
        } else sockets.push(s);
      }
    }
    process.send({ connected: sockets.length - start, failed, firstError });
  } else if (m.expect !== undefined) {
    expected = m.expect;
    process.send({ expecting: expected });
  } else if (m.collect) {
    const counts = {};
    for (const [id, a] of arrivals) counts[id] = a.times.length;
    arrivals.clear();
    process.send({ counts });
  } else if (m.close) {
    for (const s of sockets) s.close();
    const closed = sockets.length;
    sockets = [];
    process.send({ closed });
  }
}
process.send({ ready: true });
