import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { AuditLog } from './entities/audit-log.entity.js';

/** Fixed key of the advisory lock that serialises appends across instances. */
const AUDIT_APPEND_LOCK = 727_401_002;

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

const toEntry = (row: AuditRow): AuditLog =>
  Object.assign(new AuditLog(), {
    id: String(row.id),
    eventType: row.event_type,
    actorId: row.actor_id,
    subjectId: row.subject_id,
    reason: row.reason,
    data: row.data,
    createdAt: new Date(row.created_at),
    prevHash: row.prev_hash,
    chainHash: row.chain_hash,
  });

/** The append-only, hash-chained audit log. */
@Injectable()
export class AuditRepository {
  constructor(@InjectRepository(AuditLog) private readonly log: Repository<AuditLog>) {}

  /**
   * Serialises appends for the rest of the transaction (so the chain stays
   * linear under concurrent writers and instances); answers the last entry's
   * hash (null for an empty log) and the next id.
   */
  async lockTail(tx: Tx): Promise<{ lastHash: string | null; nextId: string }> {
    const manager = managerOf(tx);
    await manager.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_APPEND_LOCK]);
    const [last] = await manager.query<Array<{ chain_hash: string }>>(
      'SELECT chain_hash FROM audit_log ORDER BY id DESC LIMIT 1',
    );
    const [{ id }] = await manager.query<Array<{ id: string }>>(
      `SELECT nextval('audit_log_id_seq')::text AS id`,
    );
    return { lastHash: last?.chain_hash ?? null, nextId: id };
  }

  async append(tx: Tx, entry: AuditLog): Promise<void> {
    const manager = managerOf(tx);
    await manager.query(
      `INSERT INTO audit_log (id, event_type, actor_id, subject_id, reason, data, created_at, prev_hash, chain_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        entry.id,
        entry.eventType,
        entry.actorId,
        entry.subjectId,
        entry.reason,
        JSON.stringify(entry.data),
        entry.createdAt,
        entry.prevHash,
        entry.chainHash,
      ],
    );
  }

  /**
   * A page of entries, newest first. Raw SQL because TypeORM writes skip/take
   * into the SQL text; here every value is a bound parameter.
   */
  async page(query: { page: number; limit: number; eventType?: string }): Promise<[AuditLog[], number]> {
    const filter = 'WHERE ($1::varchar IS NULL OR event_type = $1)';
    const eventType = query.eventType ?? null;
    const rows = await this.log.query<AuditRow[]>(
      `SELECT id, event_type, actor_id, subject_id, reason, data, created_at, prev_hash, chain_hash
         FROM audit_log ${filter} ORDER BY id DESC LIMIT $2 OFFSET $3`,
      [eventType, query.limit, (query.page - 1) * query.limit],
    );
    const [{ total }] = await this.log.query<Array<{ total: number }>>(
      `SELECT count(*)::int AS total FROM audit_log ${filter}`,
      [eventType],
    );
    return [rows.map(toEntry), total];
  }

  /** Up to `limit` entries after id `after`, in id order (for walking the chain). */
  async batchAfter(after: string, limit: number): Promise<AuditLog[]> {
    return this.log
      .createQueryBuilder('entry')
      .where('entry.id > :after', { after })
      .orderBy('entry.id', 'ASC')
      .limit(limit)
      .getMany();
  }
}
