import type { ChatStreamEvent } from './chat-stream.service.js';
import { MemoryStreamLog, RESUME_RETENTION_MS } from './stream-log.js';

/** A finished stream of `chunks` chunks of `size` characters, then done. */
function stream(chunks: number, size: number): ChatStreamEvent[] {
  const events: ChatStreamEvent[] = [];
  for (let seq = 0; seq < chunks; seq++)
    events.push({ event: 'chunk', data: { seq, text: 'x'.repeat(size) } });
  const response = events.map((e) => (e.event === 'chunk' ? e.data.text : '')).join('');
  events.push({
    event: 'done',
    data: { seq: chunks, done: true, response, actions: [], agent: 'task_agent' },
  });
  return events;
}

describe('MemoryStreamLog', () => {
  it('replays a finished stream after a seq, scoped to its user', async () => {
    const log = new MemoryStreamLog();
    await log.open('u1', 'r1', 1000);
    await log.close('u1', 'r1', stream(5, 3));
    const read = await log.read('u1', 'r1', 2);
    expect(read?.ended).toBe(true);
    expect(read?.events.map((e) => e.data.seq)).toEqual([3, 4, 5]);
    expect(await log.read('u2', 'r1', -1)).toBeUndefined();
    expect(await log.read('u1', 'r2', -1)).toBeUndefined();
    expect(await log.list('u1')).toEqual([
      { request_id: 'r1', state: 'done', last_seq: 5, started_at: 1000 },
    ]);
    expect(await log.list('u2')).toEqual([]);
  });

  it('forgets a stream RESUME_RETENTION_MS after its end', async () => {
    let now = 0;
    const log = new MemoryStreamLog(undefined, () => now);
    await log.close('u1', 'r1', stream(2, 3));
    now = RESUME_RETENTION_MS - 1;
    expect(await log.read('u1', 'r1', -1)).toBeDefined();
    now = RESUME_RETENTION_MS + 1;
    expect(await log.read('u1', 'r1', -1)).toBeUndefined();
    expect(log.usage).toEqual({ bytes: 0, streams: 0 });
  });

  it('holds its bounds per user and in total under 1,000 buffered streams, dropping the oldest first', async () => {
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const limits = { perUser: 5, totalBytes: 8 * 1024 * 1024 };
    const log = new MemoryStreamLog(limits);
    // 1,000 finished streams of 50 users, each ~40 kB of text (~80 kB in memory): ~80 MB offered.
    for (let i = 0; i < 1000; i++) {
      const user = `u${i % 50}`;
      await log.close(user, `r${i}`, stream(100, 200));
      expect(log.usage.bytes).toBeLessThanOrEqual(limits.totalBytes);
      expect((await log.list(user)).length).toBeLessThanOrEqual(limits.perUser);
    }
    expect(log.usage.streams).toBeGreaterThan(50);
    // The newest are kept, the oldest gone.
    expect((await log.read('u49', 'r999', 98))?.events).toHaveLength(2);
    expect(await log.read('u0', 'r0', -1)).toBeUndefined();
    if (global.gc) {
      global.gc();
      // What is really held stays near the bound (the estimate counts UTF-16, V8 keeps one byte a character).
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(2 * limits.totalBytes);
    }
  });
});
