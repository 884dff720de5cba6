import { createHash, randomBytes } from 'node:crypto';
import { OffThreadHash } from './off-thread-hash.js';

describe('OffThreadHash', () => {
  it.each([0, 1, 1024 * 1024 - 1, 1024 * 1024, 3.5 * 1024 * 1024 + 7])(
    'gives the SHA-256 of %i bytes fed in uneven chunks',
    async (size) => {
      const bytes = randomBytes(size);
      const hash = new OffThreadHash();
      for (let at = 0; at < size;) {
        const n = Math.min(size - at, 1 + Math.floor(Math.random() * 200_000));
        hash.update(bytes.subarray(at, at + n));
        at += n;
        await hash.ready();
      }
      expect((await hash.digest()).toString('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    },
  );

  it('keeps concurrent hashes apart', async () => {
    const a = randomBytes(2 * 1024 * 1024);
    const b = randomBytes(2 * 1024 * 1024);
    const ha = new OffThreadHash();
    const hb = new OffThreadHash();
    for (let at = 0; at < a.length; at += 64 * 1024) {
      ha.update(a.subarray(at, at + 64 * 1024));
      hb.update(b.subarray(at, at + 64 * 1024));
    }
    const [da, db] = await Promise.all([ha.digest(), hb.digest()]);
    expect(da.toString('hex')).toBe(createHash('sha256').update(a).digest('hex'));
    expect(db.toString('hex')).toBe(createHash('sha256').update(b).digest('hex'));
  });

  it('holds the writer back while more than a few batches wait at the worker', async () => {
    const hash = new OffThreadHash();
    const chunk = randomBytes(1024 * 1024);
    let waited = 0;
    for (let i = 0; i < 64; i++) {
      hash.update(chunk);
      const ready = hash.ready();
      if (ready) {
        waited++;
        await ready;
      }
    }
    expect(waited).toBeGreaterThan(0);
    await hash.digest();
  });
});
