import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

declare const opaque: unique symbol;

/**
 * A database transaction in progress. Services cannot look inside: they get
 * one from `UnitOfWork.run` and hand it to the repositories they call (of
 * their own module or, through its exported service, of another), so every
 * write of one unit of work commits or rolls back together. Repositories open
 * it with `managerOf`.
 */
export interface Tx {
  readonly [opaque]: 'Tx';
}

/**
 * The entity manager of `tx`, bound to its transaction; for repositories only
 * (`architecture.spec.ts` keeps it so). With `outside` (the data source's own
 * manager), a repository method may also run outside any transaction.
 */
export function managerOf(tx: Tx): EntityManager;
export function managerOf(tx: Tx | undefined, outside: EntityManager): EntityManager;
export function managerOf(tx: Tx | undefined, outside?: EntityManager): EntityManager {
  // A Tx is the transaction's entity manager under an opaque type: nothing is wrapped per transaction.
  if (tx) return tx as unknown as EntityManager;
  if (outside) return outside;
  throw new Error('managerOf: no transaction and no manager to run outside one');
}

/**
 * Runs work in one transaction (the database's default isolation, READ
 * COMMITTED; locks taken inside hold until it ends).
 */
@Injectable()
export class UnitOfWork {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in a new transaction: committed when it resolves, rolled back when it throws. */
  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) => work(manager as unknown as Tx));
  }

  /** Runs `work` in the caller's transaction when given one, else in a new one. */
  runIn<T>(tx: Tx | undefined, work: (tx: Tx) => Promise<T>): Promise<T> {
    return tx ? work(tx) : this.run(work);
  }
}
