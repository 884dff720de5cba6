import { countTokens, setTokenizerIdleMs, tokenizerLoaded } from './tokens.js';

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('the tokenizer worker', () => {
  afterAll(() => setTokenizerIdleMs(5 * 60_000));

  it('is not loaded until a count needs it, and counts with o200k_base', async () => {
    expect(tokenizerLoaded()).toBe(false);
    await expect(countTokens(['hello world'])).resolves.toBe(2);
    expect(tokenizerLoaded()).toBe(true);
  });

  it('stops when idle, and the next count starts it again', async () => {
    setTokenizerIdleMs(20);
    await countTokens(['warm']);
    await until(() => !tokenizerLoaded());
    await expect(countTokens(['hello world', 'hello world'])).resolves.toBe(4);
  });

  it('answers a count sent while an idle worker is still exiting', async () => {
    setTokenizerIdleMs(0);
    await countTokens(['warm']);
    // The idle worker is let go (terminate() called, its exit not yet seen); the next count starts
    // its successor, and the old worker's exit must not fail that count.
    await until(() => !tokenizerLoaded());
    await expect(countTokens(['hello world'])).resolves.toBe(2);
  });
});
