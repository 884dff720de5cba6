import { type ItemOutcome, WriteBatcher } from './write-batcher.js';

/** A batch runner whose batches finish when the test says so, recording what each held. */
function gatedRunner() {
  const batches: string[][] = [];
  const gates: Array<() => void> = [];
  const run = async (key: string, items: string[]): Promise<Array<ItemOutcome<string>>> => {
    batches.push(items.map((item) => `${key}:${item}`));
    await new Promise<void>((resolve) => gates.push(resolve));
    return items.map((item) =>
      item.startsWith('bad')
        ? { ok: false, error: new Error(`refused ${item}`) }
        : { ok: true, value: item.toUpperCase() },
    );
  };
  const release = async () => {
    gates.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { batches, run, release };
}

describe('WriteBatcher', () => {
  it('sends a lone write at once, and the writes that arrive meanwhile together as the next batch, in order', async () => {
    const runner = gatedRunner();
    const batcher = new WriteBatcher(runner.run, 100);
    const first = batcher.submit('u1', 'a');
    const rest = ['b', 'c', 'd'].map((item) => batcher.submit('u1', item));
    expect(runner.batches).toEqual([['u1:a']]);
    await runner.release();
    expect(runner.batches).toEqual([['u1:a'], ['u1:b', 'u1:c', 'u1:d']]);
    await runner.release();
    await expect(first).resolves.toBe('A');
    await expect(Promise.all(rest)).resolves.toEqual(['B', 'C', 'D']);
  });

  it('keeps keys apart: another key does not wait for this one', async () => {
    const runner = gatedRunner();
    const batcher = new WriteBatcher(runner.run, 100);
    void batcher.submit('u1', 'a');
    void batcher.submit('u2', 'b');
    expect(runner.batches).toEqual([['u1:a'], ['u2:b']]);
    await runner.release();
    await runner.release();
  });

  it('refuses only the item its batch refused, and every item of a batch that threw', async () => {
    const runner = gatedRunner();
    const batcher = new WriteBatcher(runner.run, 100);
    void batcher.submit('u1', 'first');
    const good = batcher.submit('u1', 'good');
    // Settled before the batch runs, so the refusal is never an unhandled rejection.
    const bad = batcher.submit('u1', 'bad-one').then(
      () => 'answered',
      (err: Error) => err.message,
    );
    await runner.release();
    await runner.release();
    await expect(good).resolves.toBe('GOOD');
    await expect(bad).resolves.toBe('refused bad-one');

    const failing = new WriteBatcher<string, string>(() => Promise.reject(new Error('database gone')), 100);
    await expect(Promise.all([failing.submit('u1', 'x'), failing.submit('u1', 'y')])).rejects.toThrow(
      'database gone',
    );
    // The key is free again afterwards: the next write runs (and fails) on its own.
    await expect(failing.submit('u1', 'z')).rejects.toThrow('database gone');
  });

  it('splits a long queue into batches of at most maxBatch', async () => {
    const runner = gatedRunner();
    const batcher = new WriteBatcher(runner.run, 2);
    const all = ['a', 'b', 'c', 'd', 'e'].map((item) => batcher.submit('u1', item));
    await runner.release();
    await runner.release();
    await runner.release();
    expect(runner.batches).toEqual([['u1:a'], ['u1:b', 'u1:c'], ['u1:d', 'u1:e']]);
    await expect(Promise.all(all)).resolves.toEqual(['A', 'B', 'C', 'D', 'E']);
  });
});
