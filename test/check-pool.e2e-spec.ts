import {
  AccountQueueFullError,
  CheckPool,
  CheckQueueFullError,
  type ChecksInput,
  type ChecksReport,
  runSubmissionChecks,
  sharedBytesFromBase64,
} from '../src/modules/plugin-submissions/checks/index.js';
import { buildPluginZip, sha256Hex, validPluginPackage, sampleManifest } from './support/plugin-package.js';

/**
 * The submission checks' worker pool on its real worker threads: the compiled worker of dist/
 * (`npm run build` first; the pool refuses to run without it, or with one older than the sources).
 * Scanners are replaced through a module the worker imports (a data: URL here), so a test can make
 * one hang in synchronous code (a runaway regex) or kill its thread.
 */

const manifest = sampleManifest;

/** secretlint replaced: spins forever on a file containing SPIN (no await can interrupt it), exits the thread on EXIT. */
const HOSTILE_SCANNERS = `data:text/javascript,${encodeURIComponent(`
export const scanners = {
  secretlint: (file) => {
    if (file.text.includes('SPIN')) for (;;) {}
    if (file.text.includes('EXIT')) process.exit(3);
    return Promise.resolve([]);
  },
};`)}`;

function input(extraFile?: string): ChecksInput {
  const files = [
    { name: 'manifest.json', content: JSON.stringify(manifest) },
    { name: 'index.js', content: `export const mode = '${extraFile ?? 'calm'}';\n` },
  ];
  const packageBytes = buildPluginZip(files);
  return { manifest, packageBytes, checksum: sha256Hex(packageBytes), existing: [] };
}

const summary = (report: ChecksReport) => report.results.map((r) => `${r.check}:${r.status}:${r.code}`);

describe('CheckPool (worker threads)', () => {
  const pools: CheckPool[] = [];
  const pool = (timeoutMs = 20_000, maxQueued = 4) => {
    const created = new CheckPool({ size: 1, maxQueued, timeoutMs, scannersModule: HOSTILE_SCANNERS });
    pools.push(created);
    return created;
  };
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((created) => created.close()));
  });

  it('runs the checks on a worker: the same report as in this thread, the bytes still readable here', async () => {
    const checks = new CheckPool({ size: 1, maxQueued: 1, timeoutMs: 20_000 });
    pools.push(checks);
    const bytes = validPluginPackage(manifest);
    const shared = sharedBytesFromBase64(bytes.toString('base64'));
    expect(shared.buffer).toBeInstanceOf(SharedArrayBuffer);
    const job = { manifest, packageBytes: shared, checksum: sha256Hex(bytes), existing: [] };
    const report = await checks.run(job);
    expect(checks.stats).toEqual({ workers: 1, busy: 0, queued: 0 });
    expect(report).toEqual(await runSubmissionChecks({ ...job, packageBytes: bytes }));
    expect(report.verdict).toBe('passed');
    // Shared, not transferred: this thread still has the package to store.
    expect(Buffer.compare(shared, bytes)).toBe(0);
  });

  it('terminates a worker stuck past the deadline: check_timeout, what finished kept, then a new worker', async () => {
    const checks = pool(200);
    const stuck = input('SPIN');
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 20);
    const report = await checks.run(stuck);
    clearInterval(ticker);
    // The event loop of this thread kept running while the worker spun.
    expect(ticks).toBeGreaterThan(5);
    expect(report.verdict).toBe('errored');
    expect(summary(report)).toEqual([
      'manifest:passed:ok',
      'checksum:passed:ok',
      'package:passed:ok',
      'secrets:errored:check_timeout',
    ]);
    expect(report.manifest).toEqual(manifest);
    expect(report.sha256).toBe(sha256Hex(stuck.packageBytes));
    // A replacement takes the next job.
    const next = await checks.run(input());
    expect(next.verdict).toBe('passed');
    expect(checks.stats.workers).toBe(1);
  }, 20_000);

  it('reports a worker that dies as check_errored, never passed, and replaces it', async () => {
    const checks = pool();
    const report = await checks.run(input('EXIT'));
    expect(report.verdict).toBe('errored');
    expect(report.results.find((r) => r.check === 'secrets')).toEqual({
      check: 'secrets',
      status: 'errored',
      code: 'check_errored',
      message: 'the secrets check could not run: its worker stopped',
    });
    expect((await checks.run(input())).verdict).toBe('passed');
  });

  it('queues FIFO up to its bound, refuses beyond it, and counts the deadline from when a worker takes the job', async () => {
    // A 3 s deadline: long enough for a fresh worker's first run on a loaded machine (it loads the
    // scanners), short enough that the queued jobs wait longer than it behind the stuck one.
    const checks = pool(3000, 2);
    await checks.run(input()); // a worker ready, so the stuck job goes to it at once
    const done: string[] = [];
    const track = (name: string, job: Promise<ChecksReport>) =>
      job.then((report) => {
        done.push(name);
        return report;
      });
    const stuck = track('stuck', checks.run(input('SPIN')));
    const first = track('first', checks.run(input()));
    const second = track('second', checks.run(input()));
    await expect(checks.run(input())).rejects.toBeInstanceOf(CheckQueueFullError);
    expect(checks.stats).toMatchObject({ busy: 1, queued: 2 });
    expect((await stuck).verdict).toBe('errored');
    // Both waited longer than the 3 s deadline, yet ran to the end: the wait is not the run.
    expect((await first).verdict).toBe('passed');
    expect((await second).verdict).toBe('passed');
    expect(done).toEqual(['stuck', 'first', 'second']);
  }, 30_000);

  it('is fair between accounts: one worker per account at most, accounts take turns', async () => {
    const checks = new CheckPool({
      size: 2,
      maxQueued: 8,
      maxQueuedPerAccount: 3,
      timeoutMs: 20_000,
      scannersModule: HOSTILE_SCANNERS,
    });
    pools.push(checks);
    // Two workers ready.
    await Promise.all([checks.run(input(), 'warm-1'), checks.run(input(), 'warm-2')]);
    expect(checks.stats.workers).toBe(2);
    const done: string[] = [];
    const track = (name: string, account: string) =>
      checks.run(input(), account).then((report) => {
        done.push(name);
        return report;
      });
    const flood = ['a1', 'a2', 'a3', 'a4'].map((name) => track(name, 'flooder'));
    // The flood holds one worker; the other stays free for everyone else.
    expect(checks.stats).toMatchObject({ busy: 1, queued: 3 });
    // Its share of the queue is full: a fifth is refused, others still get in.
    await expect(checks.run(input(), 'flooder')).rejects.toBeInstanceOf(AccountQueueFullError);
    // Another account still gets in. Whether its job takes the second worker at once depends on that
    // worker being ready on a loaded machine; the turn order itself is pinned on one worker below.
    const other = track('b1', 'other');
    await Promise.all([...flood, other]);
    expect(done).toHaveLength(5);
    // The flood's own jobs ran in the order they came.
    expect(done.filter((name) => name.startsWith('a'))).toEqual(['a1', 'a2', 'a3', 'a4']);
  });

  it('serves accounts in turns on one worker: a later account does not wait for a flood to drain', async () => {
    const checks = pool(20_000, 8);
    await checks.run(input());
    const done: string[] = [];
    const track = (name: string, account: string) => checks.run(input(), account).then(() => done.push(name));
    const jobs = [
      track('a1', 'a'),
      track('a2', 'a'),
      track('a3', 'a'),
      track('b1', 'b'),
      track('c1', 'c'),
      track('b2', 'b'),
    ];
    await Promise.all(jobs);
    expect(done).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
  });

  it('ends running and waiting jobs as errored when closed, and refuses new ones', async () => {
    const checks = pool();
    const running = checks.run(input('SPIN'));
    const waiting = checks.run(input());
    // Closed once the stuck job has reached its worker.
    while (checks.stats.busy === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await checks.close();
    expect((await running).verdict).toBe('errored');
    expect((await waiting).verdict).toBe('errored');
    await expect(checks.run(input())).rejects.toThrow('closed');
  });
});
