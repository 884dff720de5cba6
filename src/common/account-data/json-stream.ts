import { Readable } from 'node:stream';

/**
 * A JSON array streamed from `items` as the reader asks for more, so an
 * export of many rows never holds them all: `[`, one item per line, `]`.
 */
export function jsonArrayStream<T>(items: AsyncIterable<T>, map: (item: T) => unknown): Readable {
  async function* lines(): AsyncGenerator<string> {
    let first = true;
    yield '[';
    for await (const item of items) {
      yield `${first ? '\n' : ',\n'}${JSON.stringify(map(item))}`;
      first = false;
    }
    yield first ? ']\n' : '\n]\n';
  }
  return Readable.from(lines());
}

/** Pages of `fetch(after)` (keyset pagination by `keyOf`) as one stream of rows. */
export async function* pages<T>(
  fetch: (after: string | null) => Promise<T[]>,
  keyOf: (row: T) => string,
): AsyncGenerator<T> {
  let after: string | null = null;
  for (;;) {
    const batch = await fetch(after);
    if (batch.length === 0) return;
    yield* batch;
    after = keyOf(batch[batch.length - 1]);
  }
}
