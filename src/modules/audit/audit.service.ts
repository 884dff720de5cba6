import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { canonicalJson } from '../../common/canonical-json.js';
import { AuditLog } from './entities/audit-log.entity.js';

/** Fixed key of the advisory lock that serialises appends across instances. */
const AUDIT_APPEND_LOCK = 727_401_002;
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

interface AuditRow {
  id: string;
  event_type: string;
  actor_id: string | null;
  subject_id: string | null;
  reason: string | null;
  data: Record<string, unknown>;
  created_at: Date | string;
  prev_hash: string;
  chain_hash: string;
}

/** The one writer of the audit log, used by every module. */
@Injectable()
export class AuditService {
  constructor(private readonly ds: DataSource) {}

  /**
   * Appends one event. Pass `manager` to make it part of the caller's
   * transaction (the event then exists exactly when the change does).
   */
  async record(event: AuditEvent, manager?: EntityManager): Promise<void> {
    if (manager) return this.append(manager, event);
    await this.ds.transaction((m) => this.append(m, event));
  }

  private async append(m: EntityManager, event: AuditEvent): Promise<void> {
    // Serialise appends so the chain stays linear under concurrent writers (and instances).
    await m.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_APPEND_LOCK]);
    const [last] = await m.query<Array<{ chain_hash: string }>>(
      'SELECT chain_hash FROM audit_log ORDER BY id DESC LIMIT 1',
    );
    const [{ id }] = await m.query<Array<{ id: string }>>(`SELECT nextval('audit_log_id_seq')::text AS id`);
    const prevHash = last?.chain_hash ?? GENESIS;
    const row: ChainFields = {
      id,
      eventType: event.eventType,
      actorId: event.actorId ?? null,
      subjectId: event.subjectId ?? null,
      reason: event.reason ?? null,
      data: event.data ?? {},
      createdAt: new Date(),
    };
    await m.query(
      `INSERT INTO audit_log (id, event_type, actor_id, subject_id, reason, data, created_at, prev_hash, chain_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        row.id,
        row.eventType,
        row.actorId,
        row.subjectId,
        row.reason,
        JSON.stringify(row.data),
        row.createdAt,
        prevHash,
        chainHash(prevHash, row),
      ],
    );
  }

  async list(opts: {
    page: number;
    limit: number;
    eventType?: string;
  }): Promise<{ items: AuditLog[]; total: number }> {
    // Raw SQL because TypeORM writes skip/take into the SQL text; here every value is a bound parameter.
    const filter = 'WHERE ($1::varchar IS NULL OR event_type = $1)';
    const eventType = opts.eventType ?? null;
    const rows = await this.ds.query<AuditRow[]>(
      `SELECT id, event_type, actor_id, subject_id, reason, data, created_at, prev_hash, chain_hash
         FROM audit_log ${filter} ORDER BY id DESC LIMIT $2 OFFSET $3`,
      [eventType, opts.limit, (opts.page - 1) * opts.limit],
    );
    const [{ total }] = await this.ds.query<Array<{ total: number }>>(
      `SELECT count(*)::int AS total FROM audit_log ${filter}`,
      [eventType],
    );
    const items = rows.map((r) =>
      Object.assign(new AuditLog(), {
        id: String(r.id),
        eventType: r.event_type,
        actorId: r.actor_id,
        subjectId: r.subject_id,
        reason: r.reason,
        data: r.data,
        createdAt: new Date(r.created_at),
        prevHash: r.prev_hash,
        chainHash: r.chain_hash,
      }),
    );
    return { items, total };
  }

  /** Walks the whole chain in id order and names the first row that does not link or hash. */
  async verify(): Promise<AuditVerification> {
    const repo = this.ds.getRepository(AuditLog);
    let prev = GENESIS;
    let checked = 0;
    let after = '0';
    for (;;) {
      const batch = await repo
        .createQueryBuilder('a')
        .where('a.id > :after', { after })
        .orderBy('a.id', 'ASC')
        .limit(1000)
        .getMany();
      if (batch.length === 0) return { ok: true, checked, first_broken_id: null };
      for (const row of batch) {
        if (row.prevHash !== prev || chainHash(prev, row) !== row.chainHash) {
          return { ok: false, checked, first_broken_id: String(row.id) };
        }
        prev = row.chainHash;
        checked++;
      }
      after = String(batch[batch.length - 1].id);
    }
  }
}
