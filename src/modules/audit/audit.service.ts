import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { chainHash, chainHashV2, entryHolds, GENESIS, personalDigest, pseudonymOf } from './audit-chain.js';
import { type Tx, UnitOfWork } from '../../database/unit-of-work.js';
import { AuditRepository } from './audit.repository.js';
import { AuditLog } from './entities/audit-log.entity.js';

export interface AuditEvent {
  eventType: string;
  actorId?: string | null;
  subjectId?: string | null;
  reason?: string | null;
  /** Never secrets, tokens or user content. */
  data?: Record<string, unknown>;
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  first_broken_id: string | null;
}

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export { chainHash };

/** The one writer of the audit log, used by every module. */
@Injectable()
export class AuditService {
  constructor(
    private readonly log: AuditRepository,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  /**
   * Appends one event. Pass `tx` to make it part of the caller's
   * transaction (the event then exists exactly when the change does).
   */
  async record(event: AuditEvent, tx?: Tx): Promise<void> {
    await this.unitOfWork.runIn(tx, (appending) => this.append(appending, event));
  }

  async list(query: {
    page: number;
    limit: number;
    eventType?: string;
  }): Promise<{ items: AuditLog[]; total: number }> {
    const [items, total] = await this.log.page(query);
    return { items, total };
  }

  /** Walks the whole chain in id order and names the first row that does not link or hash. */
  async verify(): Promise<AuditVerification> {
    let prev = GENESIS;
    let checked = 0;
    let after = '0';
    for (;;) {
      const batch = await this.log.batchAfter(after, 1000);
      if (batch.length === 0) return { ok: true, checked, first_broken_id: null };
      for (const entry of batch) {
        if (entry.prevHash !== prev || !entryHolds(prev, entry)) {
          return { ok: false, checked, first_broken_id: String(entry.id) };
        }
        prev = entry.chainHash;
        checked++;
      }
      after = String(batch[batch.length - 1].id);
    }
  }

  /**
   * The account's pseudonym in the chain (the one its entries carry as
   * actor_ref / subject_ref), made with its key on first use. Erasure stores
   * it before destroying the key, and writes it where the law makes us keep
   * rows (the sales ledger), so both name the erased account alike.
   */
  async pseudonymFor(userId: string, tx?: Tx): Promise<string> {
    return this.unitOfWork.runIn(tx, async (within) => {
      const keys = await this.log.pseudonymKeys(within, new Map([[userId, randomHex()]]));
      return pseudonymOf(userId, keys.get(userId)!);
    });
  }

  /** Entries about an account (actor, subject, or named in their data), in chain order, page by page. */
  async *entriesAbout(userId: string, email: string): AsyncIterable<AuditLog> {
    let after = '0';
    for (;;) {
      const batch = await this.log.aboutAfter(userId, email, after, 500);
      if (batch.length === 0) return;
      yield* batch;
      after = batch[batch.length - 1].id;
    }
  }

  /**
   * Removes an account's personal data from the log without breaking the
   * chain: its entries' personal fields and salts are blanked (the hashed
   * commitment stays), then its pseudonym key is destroyed. Idempotent.
   */
  async erasePersonalData(userId: string, email: string): Promise<number> {
    const erased = await this.log.erasePersonalFields(userId, email);
    await this.log.destroyPseudonymKey(userId);
    return erased;
  }

  private async append(tx: Tx, event: AuditEvent): Promise<void> {
    const tail = await this.log.lockTail(tx);
    const prevHash = tail.lastHash ?? GENESIS;
    const entry = Object.assign(new AuditLog(), {
      id: tail.nextId,
      eventType: event.eventType,
      actorId: event.actorId ?? null,
      subjectId: event.subjectId ?? null,
      reason: event.reason ?? null,
      data: event.data ?? {},
      createdAt: new Date(),
      prevHash,
      hashVersion: 2,
      personalSalt: randomHex(),
    });
    const refs = await this.pseudonyms(tx, [entry.actorId, entry.subjectId]);
    entry.actorRef = entry.actorId ? (refs.get(entry.actorId) ?? null) : null;
    entry.subjectRef = entry.subjectId ? (refs.get(entry.subjectId) ?? null) : null;
    entry.personalDigest = personalDigest(entry.personalSalt, entry);
    entry.chainHash = chainHashV2(prevHash, entry);
    await this.log.append(tx, entry);
  }

  /** The pseudonyms of those of `ids` that are UUIDs (accounts, sessions, keys), by id. */
  private async pseudonyms(tx: Tx, ids: Array<string | null>): Promise<Map<string, string>> {
    const uuids = [...new Set(ids.filter((id): id is string => !!id && UUID_SHAPE.test(id)))];
    const keys = await this.log.pseudonymKeys(
      tx,
      new Map(uuids.map((id) => [id.toLowerCase(), randomHex()])),
    );
    return new Map(uuids.map((id) => [id, pseudonymOf(id.toLowerCase(), keys.get(id.toLowerCase())!)]));
  }
}

function randomHex(): string {
  return randomBytes(32).toString('hex');
}
