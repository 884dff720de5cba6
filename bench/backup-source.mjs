// The benchmark's generated stream: the same bytes every time, produced 1 MiB at a time.
import { Readable } from 'node:stream';

const CHUNK = 1024 * 1024;
const seed = Buffer.alloc(CHUNK, 7);

export function source(size) {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return this.push(null);
      const n = Math.min(CHUNK, size - sent);
      const piece = Buffer.from(seed.subarray(0, n));
      piece.writeUInt32LE(sent >>> 0, 0);
      sent += n;
      this.push(piece);
    },
  });
}
