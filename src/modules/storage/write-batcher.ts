/** What a batch answers for one of its items: its value, or the error that item alone is refused with. */
export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

interface Waiting<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit per key. Writes of one key (one user's records) serialise on
 * that user's usage row lock anyway, each paying its own transaction and
 * commit flush while the next waits; here the writes that arrive while one
 * batch of the key is in flight wait in process and go together as the next
 * batch, in one transaction. A lone write goes at once, alone (no added
 * delay); under concurrency one commit carries many writes. Each caller still
 * gets its own answer only after the transaction that holds its write has
 * committed, or its own error. Another instance's writes of the same key
 * still serialise with these on the row lock.
 */
export class WriteBatcher<I, R> {
  private readonly queues = new Map<string, Array<Waiting<I, R>>>();

  constructor(
    /** Runs one batch; answers one outcome per item, in order. A throw refuses the whole batch. */
    private readonly run: (key: string, items: I[]) => Promise<Array<ItemOutcome<R>>>,
    private readonly maxBatch: number,
  ) {}

  submit(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const queue = this.queues.get(key);
      if (queue) {
        queue.push({ item, resolve, reject });
        return;
      }
      this.queues.set(key, [{ item, resolve, reject }]);
      void this.drain(key);
    });
  }

  /** Runs the key's batches one after another until nothing waits, then forgets the key. */
  private async drain(key: string): Promise<void> {
    const queue = this.queues.get(key)!;
    while (queue.length) {
      const batch = queue.splice(0, this.maxBatch);
      try {
        const outcomes = await this.run(
          key,
          batch.map((waiting) => waiting.item),
        );
        batch.forEach((waiting, i) => {
          const outcome = outcomes[i];
          if (outcome.ok) waiting.resolve(outcome.value);
          else waiting.reject(outcome.error);
        });
      } catch (err) {
        for (const waiting of batch) waiting.reject(err);
      }
    }
    this.queues.delete(key);
  }
}
