import type { Readable } from 'node:stream';

/**
 * Where a participant writes its part of an account's export: files of the
 * one zip archive (each streamed through, its SHA-256 taken on the way into
 * the manifest), and sections of `account.json`, the one file that gathers
 * what several modules hold about the account itself (profile, sessions,
 * subscription, devices, team membership).
 */
export interface AccountArchive {
  /**
   * Adds one file; resolves once the archive has consumed all of it, so a
   * participant adding many blobs opens one at a time and never holds them
   * together. `path` is `/`-separated, relative (`records/notes/<id>.bin`).
   */
  addFile(path: string, content: Readable | Buffer | string): Promise<void>;
  /** Adds `value` as a pretty-printed JSON file. */
  addJson(path: string, value: unknown): Promise<void>;
  /** One top-level key of `account.json` (written once every participant has exported). */
  addAccountSection(name: string, value: unknown): void;
  /** Whether the account asked for its backup blobs too (they can be large). */
  readonly includeBackups: boolean;
}

/** The account an export is about. */
export interface ExportedAccount {
  userId: string;
  /** Lower-cased, as stored: rows that name the account by email (audit subjects) are found by it. */
  email: string;
}

/** The account an erasure is about, as its participants see it. */
export interface ErasedAccount extends ExportedAccount {
  /**
   * A UUID standing for the account in what the law makes us keep (sales
   * ledger, payouts) and in the audit chain's hashed part; the same in every
   * participant and on every attempt, so a resumed erasure writes the same.
   */
  pseudonym: string;
}

/**
 * What a module holding data of an account contributes to its export and its
 * erasure: each answers for its own tables and blobs, so the account module
 * reads no other module's tables (the same shape as BlobReferences).
 *
 * `erase` must be idempotent and safe to run again after a crash at any
 * point: an erasure that fails part-way is retried, from the first
 * participant that had not finished. A participant that deletes blobs deletes
 * them before the rows that name them (a retry finds the keys again), and
 * throws when the blob store refuses, rather than leaving blobs behind.
 */
export abstract class AccountDataParticipant {
  /** Names the participant in the erasure's progress and the export's log ('storage', 'billing'). */
  abstract readonly name: string;
  /**
   * Erasure order, lower first. Data first (10–40), then what points at the
   * account from others' data (50–60), money (70), the audit log (90) and
   * the account's own rows last (100), since the user row is what everything
   * else hangs from.
   */
  abstract readonly eraseOrder: number;
  abstract export(account: ExportedAccount, archive: AccountArchive): Promise<void>;
  abstract erase(account: ErasedAccount): Promise<void>;
  /** The account was disabled pending erasure (e.g. stop renewing a subscription). Best effort. */
  onDisabled(_userId: string): Promise<void> {
    return Promise.resolve();
  }
  /** The account was restored inside its grace period: undo what `onDisabled` did. Best effort. */
  onRestored(_userId: string): Promise<void> {
    return Promise.resolve();
  }
}
