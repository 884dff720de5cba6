import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackupException } from './backup.errors.js';
import { UploadGate } from './upload-gate.js';

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Pushes `chunks` through a gate into a collecting sink; answers what arrived, or the error. */
async function run(gate: UploadGate, chunks: Buffer[]): Promise<{ received: Buffer; error?: Error }> {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      done();
    },
  });
  try {
    await pipeline(Readable.from(chunks), gate, sink);
    return { received: Buffer.concat(parts) };
  } catch (error) {
    gate.abandon();
    return { received: Buffer.concat(parts), error: error as Error };
  }
}

const tooLarge = (size: number) => new BackupException('quota_exceeded', `too large: ${size}`);

describe('UploadGate', () => {
  it('passes a body that fits exactly, with a matching checksum, unchanged', async () => {
    const body = randomBytes(256 * 1024);
    const chunks = [body.subarray(0, 1000), body.subarray(1000, 200_000), body.subarray(200_000)];
    const gate = new UploadGate({ room: body.length, tooLarge, checksum: sha(body) });
    const result = await run(gate, chunks);
    expect(result.error).toBeUndefined();
    expect(result.received.equals(body)).toBe(true);
    expect(gate.bytes).toBe(body.length);
  });

  it('fails with tooLarge as soon as one byte passes the room', async () => {
    const body = randomBytes(10_001);
    const gate = new UploadGate({ room: 10_000, tooLarge, checksum: sha(body) });
    const result = await run(gate, [body.subarray(0, 5000), body.subarray(5000)]);
    expect(result.error).toBeInstanceOf(BackupException);
    expect((result.error as BackupException).code).toBe('quota_exceeded');
    expect(result.error?.message).toBe('too large: 10001');
  });

  it('fails at the end with checksum_mismatch when the hash differs', async () => {
    const body = randomBytes(4096);
    const gate = new UploadGate({ room: Infinity, tooLarge, checksum: sha(Buffer.from('other')) });
    const result = await run(gate, [body]);
    expect((result.error as BackupException).code).toBe('checksum_mismatch');
  });

  it('fails when the source ends early with an error, passing on only what arrived', async () => {
    const body = randomBytes(2048);
    const source = new Readable({
      read() {
        this.push(body.subarray(0, 1024));
        this.destroy(new Error('connection reset'));
      },
    });
    const gate = new UploadGate({ room: Infinity, tooLarge, checksum: sha(body) });
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    await expect(pipeline(source, gate, sink)).rejects.toThrow('connection reset');
    gate.abandon();
  });
});
