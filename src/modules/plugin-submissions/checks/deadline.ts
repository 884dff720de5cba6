/** Thrown when the whole run's deadline passes; the runner turns it into `check_timeout`. */
export class CheckTimeoutError extends Error {
  constructor() {
    super('the checks ran out of time');
    this.name = 'CheckTimeoutError';
  }
}

/** One deadline for the whole run, looked at between files and raced against every scanner call. */
export class Deadline {
  private readonly at: number;

  constructor(timeoutMs: number) {
    this.at = Date.now() + timeoutMs;
  }

  throwIfExpired(): void {
    if (Date.now() >= this.at) throw new CheckTimeoutError();
  }

  /** The work's result, or CheckTimeoutError when the deadline passes first (the work is abandoned). */
  async race<T>(work: Promise<T>): Promise<T> {
    this.throwIfExpired();
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new CheckTimeoutError()), Math.max(0, this.at - Date.now()));
    });
    try {
      return await Promise.race([work, expiry]);
    } finally {
      clearTimeout(timer);
    }
  }
}
