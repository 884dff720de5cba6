import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
  type Type,
} from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { BlobStore, type ListedBlob } from './blob-store.js';
import { type BlobReferences, UUID } from './blob-references.js';
import { BlobSweepRepository } from './blob-sweep.repository.js';

export interface SweepTally {
  count: number;
  bytes: number;
}

/** What one sweep did: removed counts and bytes per kind, what it kept and why. No keys, no user data. */
export interface BlobSweepReport {
  removed: Record<string, SweepTally>;
  kept: { referenced: number; young: number; unclaimed: number; unfinished_young: number };
  /** Removals that failed (logged; the next sweep tries again). */
  failed: number;
  duration_ms: number;
}

/** Keys a sweep asks about at once. */
const BATCH = 500;
/** A blob old enough to go, with the module that claims its key. */
interface Candidate {
  blob: ListedBlob;
  owner: BlobReferences;
}

/** Removals in flight at once. */
const PARALLEL_DELETES = 8;

/**
 * Removes what no row accounts for (no blob may outlive its row):
 * leftovers of interrupted writes (temp files, checksum files without their
 * object, incomplete S3 multipart uploads), and blobs whose key no row
 * references — each only once it is older than BLOB_SWEEP_GRACE_MS.
 *
 * The grace is what makes it safe beside live traffic: a blob is written
 * before its row commits, so a young unreferenced blob may be a write in
 * flight on any instance, and an old one (write finished, commit never
 * came) is a crash's leftover; a key, once unreferenced and old, is never
 * referenced again (every write makes a new key). Whether a key is
 * referenced, the module that claims it answers (BlobReferences); the sweep
 * reads no module's tables. Quota usage is untouched: it counts rows, and the
 * sweep removes only bytes no row counts.
 *
 * Runs in the background at start and every BLOB_SWEEP_INTERVAL_MS, under a
 * Postgres advisory lock so one instance sweeps at a time (an economy: two
 * sweeps at once would only both delete the same orphans, idempotently).
 */
@Injectable()
export class BlobSweepService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('BlobSweep');
  private readonly owners: BlobReferences[] = [];
  private firstRun?: NodeJS.Timeout;
  private timer?: NodeJS.Timeout;
  private running?: Promise<BlobSweepReport | null>;
  private stopping = false;

  constructor(
    private readonly repository: BlobSweepRepository,
    private readonly blobs: BlobStore,
    private readonly config: AppConfig,
  ) {}

  /**
   * Called at module init for each module's BlobReferences (through
   * `provideBlobReferences`); answers a function that takes it back.
   */
  register(owner: BlobReferences): () => void {
    if (!owner.pattern.source.startsWith('^') || !owner.pattern.source.endsWith('$')) {
      throw new Error(`Blob references ${owner.kind}: the pattern must be anchored (^…$)`);
    }
    this.owners.push(owner);
    return () => {
      const index = this.owners.indexOf(owner);
      if (index >= 0) this.owners.splice(index, 1);
    };
  }

  onApplicationBootstrap(): void {
    const every = this.config.blobSweep.intervalMs;
    if (every === 0) return;
    // Not awaited: readiness does not wait for a walk of the whole store.
    const run = () => void this.sweep().catch(() => undefined);
    this.firstRun = setTimeout(run, 0).unref();
    this.timer = setInterval(run, every).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.firstRun);
    clearInterval(this.timer);
    // A sweep stops between batches; the database must outlive it.
    await this.running?.catch(() => undefined);
  }

  /**
   * Sweeps now and resolves with what was removed; null when another sweep
   * (here or on another instance) holds the lock. `olderThan` overrides
   * now − BLOB_SWEEP_GRACE_MS: only what is older than it is removed.
   */
  sweep(options: { olderThan?: Date } = {}): Promise<BlobSweepReport | null> {
    if (this.running) return Promise.resolve(null);
    const run = this.locked(() => this.run(options)).catch((err: unknown) => {
      this.logger.error(`Blob sweep failed (the next one retries): ${withoutIds(err)}`);
      throw err;
    });
    this.running = run.finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(options: { olderThan?: Date }): Promise<BlobSweepReport> {
    const started = Date.now();
    const cutoff = options.olderThan ?? new Date(started - this.config.blobSweep.graceMs);
    if (this.owners.length === 0) throw new Error('No module declared blob references; refusing to sweep');
    const report: BlobSweepReport = {
      removed: {},
      kept: { referenced: 0, young: 0, unclaimed: 0, unfinished_young: 0 },
      failed: 0,
      duration_ms: 0,
    };
    const tally = (kind: string, bytes: number) => {
      const kindTally = (report.removed[kind] ??= { count: 0, bytes: 0 });
      kindTally.count += 1;
      kindTally.bytes += bytes;
    };
    try {
      await this.sweepUnfinished(cutoff, report, tally);
      await this.sweepUnreferenced(cutoff, report, tally);
    } finally {
      report.duration_ms = Date.now() - started;
      this.logger.log({
        msg: `Blob sweep removed ${summarise(report.removed)}`,
        removed: report.removed,
        kept: report.kept,
        failed: report.failed,
        grace_ms: started - cutoff.getTime(),
        duration_ms: report.duration_ms,
        driver: this.blobs.driver,
        ...(this.stopping ? { interrupted: true } : {}),
      });
    }
    return report;
  }

  private async sweepUnfinished(
    cutoff: Date,
    report: BlobSweepReport,
    tally: (kind: string, bytes: number) => void,
  ): Promise<void> {
    for await (const write of this.blobs.listUnfinished()) {
      if (this.stopping) return;
      // An upload the store names a key for is only ours if an owner claims that key (a shared bucket).
      const owner = write.key === undefined ? undefined : this.ownerOf(write.key);
      if (write.key !== undefined && !owner) {
        report.kept.unclaimed += 1;
        continue;
      }
      if (write.lastActivity >= cutoff) {
        report.kept.unfinished_young += 1;
        continue;
      }
      // A direct upload a row still waits for (a client resuming within its own deadline) is not a
      // leftover however long it has been idle: its owner removes it when that deadline passes.
      if (owner && write.key !== undefined && (await owner.referenced([write.key])).has(write.key)) {
        report.kept.referenced += 1;
        continue;
      }
      await this.removing(report, () => this.blobs.removeUnfinished(write), write.kind, write.size, tally);
    }
  }

  private async sweepUnreferenced(
    cutoff: Date,
    report: BlobSweepReport,
    tally: (kind: string, bytes: number) => void,
  ): Promise<void> {
    let batch: Candidate[] = [];
    const flush = async () => {
      const orphans = await this.unreferenced(batch);
      report.kept.referenced += batch.length - orphans.length;
      batch = [];
      for (let i = 0; i < orphans.length; i += PARALLEL_DELETES) {
        await Promise.all(
          orphans.slice(i, i + PARALLEL_DELETES).map((orphan) => this.removeOrphan(orphan, report, tally)),
        );
      }
    };
    for await (const blob of this.blobs.list()) {
      if (this.stopping) return;
      const owner = this.ownerOf(blob.key);
      if (!owner) {
        report.kept.unclaimed += 1;
      } else if (blob.lastModified >= cutoff) {
        report.kept.young += 1;
      } else {
        batch.push({ blob, owner });
        if (batch.length >= BATCH) await flush();
      }
    }
    if (batch.length && !this.stopping) await flush();
  }

  /**
   * The entries of `batch` no row references: each module that claims keys
   * in it is asked about those keys (and only those), and decides alone.
   */
  private async unreferenced(batch: Candidate[]): Promise<Candidate[]> {
    const referenced = new Set<string>();
    for (const owner of new Set(batch.map((candidate) => candidate.owner))) {
      const keys = batch.filter((candidate) => candidate.owner === owner).map((c) => c.blob.key);
      for (const key of await owner.referenced(keys)) referenced.add(key);
    }
    return batch.filter((candidate) => !referenced.has(candidate.blob.key));
  }

  private removeOrphan(
    orphan: Candidate,
    report: BlobSweepReport,
    tally: (kind: string, bytes: number) => void,
  ): Promise<void> {
    const remove = () => this.blobs.delete(orphan.blob.key);
    return this.removing(report, remove, orphan.owner.kind, orphan.blob.size, tally);
  }

  private ownerOf(key: string): BlobReferences | undefined {
    return this.owners.find((o) => o.pattern.test(key));
  }

  private async removing(
    report: BlobSweepReport,
    remove: () => Promise<void>,
    kind: string,
    bytes: number,
    tally: (kind: string, bytes: number) => void,
  ): Promise<void> {
    try {
      await remove();
      tally(kind, bytes);
    } catch (err) {
      report.failed += 1;
      this.logger.warn(`Could not remove a ${kind} (the next sweep retries): ${withoutIds(err)}`);
    }
  }

  /** Runs `work` holding the sweep lock; null (logged) when another instance is sweeping. */
  private async locked<T>(work: () => Promise<T>): Promise<T | null> {
    const result = await this.repository.locked(work);
    if (result === null) this.logger.log('Blob sweep skipped: another instance is sweeping');
    return result;
  }
}

/** An error's message without the user and row ids a path or key in it would carry. */
function withoutIds(err: unknown): string {
  return String((err as Error).message ?? err).replace(new RegExp(UUID, 'gi'), '<id>');
}

function summarise(removed: Record<string, SweepTally>): string {
  const parts = Object.entries(removed).map(([kind, t]) => `${t.count} ${kind} (${t.bytes} bytes)`);
  return parts.length ? parts.join(', ') : 'nothing';
}

/**
 * The providers that declare a module's blob references to the sweep: the
 * class (it answers from the module's repository) and its registration.
 * List them among the module's providers: `...provideBlobReferences(X)`.
 */
export function provideBlobReferences(references: Type<BlobReferences>): Provider[] {
  return [
    references,
    {
      provide: Symbol(`blob references: ${references.name}`),
      inject: [BlobSweepService, references],
      useFactory: (sweep: BlobSweepService, owner: BlobReferences) => sweep.register(owner),
    },
  ];
}
