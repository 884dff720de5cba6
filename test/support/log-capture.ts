/** A pino destination that keeps every line, so tests can assert what was (and was not) logged. */
export class LogCapture {
  readonly raw: string[] = [];

  write(line: string): void {
    this.raw.push(line);
  }

  get lines(): Array<Record<string, unknown>> {
    return this.raw.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  get text(): string {
    return this.raw.join('');
  }
}
