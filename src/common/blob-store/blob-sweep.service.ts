import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { BlobStore, type ListedBlob } from './blob-store.js';
import {
  type BlobKeyColumn,
  BlobSweepRepository,
  type ReferenceLookup,
  type SweepQueries,
} from './blob-sweep.repository.js';

export type { BlobKeyColumn };

/**
 * A module whose rows point at blobs declares the keys it writes and where
 * it keeps them; the sweep removes only keys some owner claims, and only when
 * none of the declared columns references them.
 */
export interface BlobKeyOwner {
  /** Names the owner's blobs in the sweep's log ('record', 'backup'). */
  kind: string;
  /** Exactly the keys the owner writes (anchored). Keys nobody claims are never touched. */
  pattern: RegExp;
  references: BlobKeyColumn[];
}

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

/** A lowercase UUID (`randomUUID()`, Postgres `uuid` as text), for owners' key patterns. */
export const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** Keys checked against the database per statement. */
const BATCH = 500;
/** Removals in flight at once. */
const PARALLEL_DELETES = 8;
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

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
 * referenced again (every write makes a new key). All reference columns are
 * checked in one statement, so a key moving between tables in a transaction
 * (a record's blob becoming a conflict copy's) is seen in one place or the
 * other, never in neither. Quota usage is untouched: it counts rows, and the
 * sweep removes only bytes no row counts.
 *
 * Runs in the background at start and every BLOB_SWEEP_INTERVAL_MS, under a
 * Postgres advisory lock so one instance sweeps at a time (an economy: two
 * sweeps at once would only both delete the same orphans, idempotently).
 */
@Injectable()
export class BlobSweepService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('BlobSweep');
  private readonly owners: BlobKeyOwner[] = [];
  private firstRun?: NodeJS.Timeout;
  private timer?: NodeJS.Timeout;
  private running?: Promise<BlobSweepReport | null>;
  private stopping = false;

  constructor(
    private readonly repository: BlobSweepRepository,
    private readonly blobs: BlobStore,
    private readonly config: AppConfig,
  ) {}

  /** Called at module init by each owner (through `blobKeyOwner`). */
  register(owner: BlobKeyOwner): void {
    const names = owner.references.flatMap((r) => [
      r.table,
      r.column,
      ...(r.lookup ? [r.lookup.column] : []),
    ]);
    const bad = names.find((n) => !IDENTIFIER.test(n));
    if (bad)
      throw new Error(`Blob key owner ${owner.kind}: ${JSON.stringify(bad)} is not a plain identifier`);
    if (!owner.pattern.source.startsWith('^') || !owner.pattern.source.endsWith('$')) {
      throw new Error(`Blob key owner ${owner.kind}: the pattern must be anchored (^…$)`);
    }
    this.owners.push(owner);
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
    const run = this.locked((queries) => this.run(queries, options)).catch((err: unknown) => {
      this.logger.error(`Blob sweep failed (the next one retries): ${withoutIds(err)}`);
      throw err;
    });
    this.running = run.finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(queries: SweepQueries, options: { olderThan?: Date }): Promise<BlobSweepReport> {
    const started = Date.now();
    const cutoff = options.olderThan ?? new Date(started - this.config.blobSweep.graceMs);
    await this.assertEveryKeyColumnIsOwned(queries);
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
      await this.sweepUnreferenced(queries, cutoff, report, tally);
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
      if (write.key !== undefined && !this.ownerOf(write.key)) {
        report.kept.unclaimed += 1;
        continue;
      }
      if (write.lastActivity >= cutoff) {
        report.kept.unfinished_young += 1;
        continue;
      }
      await this.removing(report, () => this.blobs.removeUnfinished(write), write.kind, write.size, tally);
    }
  }

  private async sweepUnreferenced(
    queries: SweepQueries,
    cutoff: Date,
    report: BlobSweepReport,
    tally: (kind: string, bytes: number) => void,
  ): Promise<void> {
    let batch: Array<{ blob: ListedBlob; owner: BlobKeyOwner; match: RegExpExecArray }> = [];
    const flush = async () => {
      const orphans = await this.unreferenced(queries, batch);
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
      const match = owner?.pattern.exec(blob.key);
      if (!owner || !match) {
        report.kept.unclaimed += 1;
      } else if (blob.lastModified >= cutoff) {
        report.kept.young += 1;
      } else {
        batch.push({ blob, owner, match });
        if (batch.length >= BATCH) await flush();
      }
    }
    if (batch.length && !this.stopping) await flush();
  }

  /**
   * The entries of `batch` no row references. First through the owners'
   * indexed lookups (finds nearly every live blob cheaply); what remains is
   * checked against every declared column in one statement (one snapshot),
   * which alone decides that a key is unreferenced.
   */
  private async unreferenced<T extends { blob: ListedBlob; owner: BlobKeyOwner; match: RegExpExecArray }>(
    queries: SweepQueries,
    batch: T[],
  ): Promise<T[]> {
    if (batch.length === 0) return [];
    const lookups: ReferenceLookup[] = [];
    for (const owner of this.owners) {
      for (const column of owner.references) {
        if (!column.lookup) continue;
        const group = column.lookup.group;
        const values = batch
          .filter((b) => b.owner === owner && b.match.groups?.[group])
          .map((b) => b.match.groups![group]);
        if (values.length) lookups.push({ column: { ...column, lookup: column.lookup }, values });
      }
    }
    const found = new Set(
      await queries.foundByLookup(
        batch.map((b) => b.blob.key),
        lookups,
      ),
    );
    const rest = batch.filter((b) => !found.has(b.blob.key));
    if (rest.length === 0) return [];
    const columns = this.owners.flatMap((owner) => owner.references);
    for (const key of await queries.referenced(
      rest.map((b) => b.blob.key),
      columns,
    ))
      found.add(key);
    return rest.filter((b) => !found.has(b.blob.key));
  }

  /**
   * Refuses to sweep when a table has a blob-key column no owner declared: its
   * blobs would look unreferenced. (Also when nothing is registered at all.)
   */
  private async assertEveryKeyColumnIsOwned(queries: SweepQueries): Promise<void> {
    if (this.owners.length === 0) throw new Error('No blob key owner is registered; refusing to sweep');
    const declared = new Set(this.owners.flatMap((o) => o.references.map((r) => `${r.table}.${r.column}`)));
    const columns = await queries.blobKeyColumns();
    const missing = columns.filter((c) => !declared.has(c));
    if (missing.length) {
      throw new Error(`Refusing to sweep: ${missing.join(', ')} hold blob keys but no module declared them`);
    }
    const present = new Set(columns);
    const absent = [...declared].filter((c) => !present.has(c));
    if (absent.length)
      throw new Error(`Refusing to sweep: declared columns ${absent.join(', ')} do not exist`);
  }

  private removeOrphan(
    orphan: { blob: ListedBlob; owner: BlobKeyOwner },
    report: BlobSweepReport,
    tally: (kind: string, bytes: number) => void,
  ): Promise<void> {
    const remove = () => this.blobs.delete(orphan.blob.key);
    return this.removing(report, remove, orphan.owner.kind, orphan.blob.size, tally);
  }

  private ownerOf(key: string): BlobKeyOwner | undefined {
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
  private async locked<T>(work: (queries: SweepQueries) => Promise<T>): Promise<T | null> {
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
 * Declares a module's blob keys to the sweep; list it among the module's
 * providers. The sweep refuses to run while a `*blob_key*` column exists
 * that no owner declared.
 */
export function blobKeyOwner(owner: BlobKeyOwner): Provider {
  return {
    provide: Symbol(`blob key owner: ${owner.kind}`),
    inject: [BlobSweepService],
    useFactory: (sweep: BlobSweepService) => sweep.register(owner),
  };
}
