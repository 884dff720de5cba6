import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../common/canonical-json.js';
import { type Tx, UnitOfWork } from '../../database/unit-of-work.js';
import { AuditRepository } from './audit.repository.js';
import { AuditLog } from './entities/audit-log.entity.js';

const GENESIS = '0'.repeat(64);

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

interface ChainFields {
  id: string;
  eventType: string;
  actorId: string | null;
  subjectId: string | null;
  reason: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
}

export function chainHash(prevHash: string, row: ChainFields): string {
  const canonical = canonicalJson({
    id: row.id,
    event_type: row.eventType,
    actor_id: row.actorId,
    subject_id: row.subjectId,
    reason: row.reason,
    data: row.data,
    created_at: row.createdAt.getTime(),
  });
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

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
        if (entry.prevHash !== prev || chainHash(prev, entry) !== entry.chainHash) {
          return { ok: false, checked, first_broken_id: String(entry.id) };
        }
        prev = entry.chainHash;
        checked++;
      }
      after = String(batch[batch.length - 1].id);
    }
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
    });
    entry.chainHash = chainHash(prevHash, entry);
    await this.log.append(tx, entry);
  }
}
