import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config.js';

/** Fixed key of the session advisory lock that lets one instance sweep at a time. */
const SWEEP_LOCK_KEY = 727_401_021;

/** A column that holds blob keys, as one statement may name it (identifiers only). */
export interface BlobKeyColumn {
  table: string;
  column: string;
  /**
   * An indexed column whose value a named group of the owner's key pattern
   * gives (the row id in `{user}/backups/{id}`): most keys are then found
   * through that index instead of a scan. Only a shortcut for finding a
   * reference: a key it does not find is checked against `column` itself.
   */
  lookup?: { column: string; group: string };
}

/** A reference column with the values of its lookup column to search by. */
export interface ReferenceLookup {
  column: BlobKeyColumn & { lookup: { column: string; group: string } };
  values: string[];
}

type Run = <T>(sql: string, params?: unknown[]) => Promise<T>;

/**
 * The sweep's queries, on the pool or on the connection holding the sweep
 * lock. Table and column names come from the owners' declarations, which
 * the sweep checks are plain identifiers before any statement names them.
 */
export class SweepQueries {
  constructor(private readonly run: Run) {}

  /** Of `keys`, those found through the lookup columns' indexes (a cheap first pass). */
  async foundByLookup(keys: string[], lookups: ReferenceLookup[]): Promise<string[]> {
    if (lookups.length === 0) return [];
    const params: unknown[] = [keys];
    const selects = lookups.map(({ column, values }) => {
      params.push(values);
      return `SELECT ${column.column}::text AS key FROM ${column.table}
               WHERE ${column.lookup.column} = ANY($${params.length}) AND ${column.column} = ANY($1::text[])`;
    });
    const rows = await this.run<Array<{ key: string }>>(selects.join(' UNION ALL '), params);
    return rows.map((row) => row.key);
  }

  /** Of `keys`, those any of `columns` references, in one statement (one snapshot). */
  async referenced(keys: string[], columns: BlobKeyColumn[]): Promise<string[]> {
    const selects = columns.map(
      (column) =>
        `SELECT ${column.column}::text AS key FROM ${column.table} WHERE ${column.column} = ANY($1::text[])`,
    );
    const rows = await this.run<Array<{ key: string }>>(selects.join(' UNION ALL '), [keys]);
    return rows.map((row) => row.key);
  }

  /** Every `table.column` of the schema whose name says it holds blob keys. */
  async blobKeyColumns(): Promise<string[]> {
    const rows = await this.run<Array<{ table_name: string; column_name: string }>>(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND column_name LIKE '%blob_key%'`,
    );
    return rows.map((row) => `${row.table_name}.${row.column_name}`);
  }
}

/** Where the sweep's queries run, and the lock that keeps two instances from sweeping at once. */
@Injectable()
export class BlobSweepRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  /**
   * Runs `work` holding the sweep lock; null when another instance holds it.
   * Against a server (a pool of more than one connection) the lock is a
   * session advisory lock on a connection of its own, held for the sweep;
   * the embedded database has one connection and one owning process, so the
   * in-process guard is the whole lock there.
   */
  async locked<T>(work: (queries: SweepQueries) => Promise<T>): Promise<T | null> {
    if (this.config.database.poolMax <= 1 || !this.config.database.url) {
      return work(new SweepQueries((sql, params) => this.dataSource.query(sql, params)));
    }
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [
        SWEEP_LOCK_KEY,
      ])) as Array<{ locked: boolean }>;
      if (!locked) return null;
      try {
        return await work(new SweepQueries((sql, params) => runner.query(sql, params)));
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [SWEEP_LOCK_KEY]);
      }
    } finally {
      await runner.release();
    }
  }
}
