import { Duplex } from 'node:stream';
import type { MessagePort } from 'node:worker_threads';

/** What a frame carries: a new connection, bytes, the end of a side's writes, or a connection's close. */
const OPEN = 0;
const DATA = 1;
const END = 2;
const CLOSE = 3;
type FrameType = typeof OPEN | typeof DATA | typeof END | typeof CLOSE;
type Frame = [id: number, type: FrameType, bytes?: Uint8Array];

/**
 * Many byte streams between two threads over one MessagePort: the app's
 * database connections and the embedded database's server on its worker
 * thread. Each side sends the frames written in one turn of its event loop
 * together, in one message, once that turn's I/O is done: the requests read
 * in one turn cost the database thread one wake-up for all their queries,
 * and the answers it ran in one turn cost the app one, where a socket per
 * connection costs a system call and a wake-up for every query and every
 * answer. Frames of a connection keep their order.
 */
export class PortLink {
  private readonly sockets = new Map<number, PortSocket>();
  private outgoing: Frame[] = [];
  private transfer: ArrayBuffer[] = [];
  private flushScheduled = false;
  private lastId = 0;
  private closed = false;

  /** `accept` gets the connections the other side opens (the server's side sets it). */
  constructor(
    private readonly port: MessagePort,
    private readonly accept?: (socket: PortSocket) => void,
  ) {
    port.on('message', (frames: Frame[]) => this.receive(frames));
    port.on('close', () => this.close());
  }

  /** A new connection to the other side, open once its `connect()` is called (as `pg` does with a socket). */
  socket(): PortSocket {
    return new PortSocket(this, ++this.lastId);
  }

  /** Opens `socket`'s connection: the other side's `accept` gets it. */
  open(socket: PortSocket): void {
    if (this.closed) {
      process.nextTick(() => socket.destroy(new Error('The database thread has stopped')));
      return;
    }
    this.sockets.set(socket.id, socket);
    this.send(socket.id, OPEN);
    process.nextTick(() => socket.emit('connect'));
  }

  /** Ends every connection (their sockets close) and stops listening on the port. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const socket of this.sockets.values()) socket.destroy();
    this.sockets.clear();
    this.port.close();
  }

  /** Queues a frame; `chunks` (a connection's writes, in order) become its bytes. */
  send(id: number, type: FrameType, chunks?: readonly Uint8Array[]): void {
    if (this.closed) return;
    if (chunks) {
      // One copy of exactly these bytes, moved to the other thread rather than cloned: a Buffer is
      // often a view into a larger shared slab, all of which a clone would copy.
      const own = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.byteLength, 0));
      let offset = 0;
      for (const chunk of chunks) {
        own.set(chunk, offset);
        offset += chunk.byteLength;
      }
      this.transfer.push(own.buffer);
      this.outgoing.push([id, type, own]);
    } else {
      this.outgoing.push([id, type]);
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  forget(id: number): void {
    this.sockets.delete(id);
  }

  private flush(): void {
    this.flushScheduled = false;
    const frames = this.outgoing;
    const transfer = this.transfer;
    this.outgoing = [];
    this.transfer = [];
    if (!this.closed && frames.length > 0) this.port.postMessage(frames, transfer);
  }

  private receive(frames: Frame[]): void {
    for (const [id, type, bytes] of frames) {
      if (type === OPEN) this.opened(id);
      else this.sockets.get(id)?.received(type, bytes);
    }
  }

  private opened(id: number): void {
    if (!this.accept) {
      this.send(id, CLOSE);
      return;
    }
    const socket = new PortSocket(this, id);
    this.sockets.set(id, socket);
    this.accept(socket);
  }
}

/**
 * One connection of a PortLink, as a Duplex with the few net.Socket methods
 * `pg` and the wire server call (no-ops here: there is no TCP under it).
 */
export class PortSocket extends Duplex {
  private peerClosed = false;

  constructor(
    private readonly link: PortLink,
    readonly id: number,
  ) {
    super();
  }

  /** The other side's frames for this connection. */
  received(type: FrameType, bytes?: Uint8Array): void {
    if (type === DATA && bytes) this.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    else if (type === END) this.push(null);
    else if (type === CLOSE) {
      this.peerClosed = true;
      this.push(null);
      this.destroy();
    }
  }

  override _read(): void {
    // Data is pushed as it arrives.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.link.send(this.id, DATA, [chunk]);
    done();
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, done: (err?: Error | null) => void): void {
    // A corked connection's writes (pg corks each query's messages): copied once, into one frame.
    this.link.send(
      this.id,
      DATA,
      chunks.map(({ chunk }) => chunk),
    );
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.link.send(this.id, END);
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (!this.peerClosed) this.link.send(this.id, CLOSE);
    this.link.forget(this.id);
    done(err);
  }

  /** As net.Socket's: the arguments (port and host) mean nothing here. */
  connect(): this {
    this.link.open(this);
    return this;
  }

  // net.Socket's, which `pg` calls; the port itself needs none of them.
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}
