import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { returningRows } from '../../database/sql.js';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { AuditLog } from './entities/audit-log.entity.js';
import { AuditPseudonymKey } from './entities/audit-pseudonym-key.entity.js';

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
  hash_version: number;
  actor_ref: string | null;
  subject_ref: string | null;
  personal_digest: string | null;
  personal_salt: string | null;
  personal_erased_at: Date | string | null;
}

const COLUMNS = `id, event_type, actor_id, subject_id, reason, data, created_at, prev_hash, chain_hash,
  hash_version, actor_ref, subject_ref, personal_digest, personal_salt, personal_erased_at`;

/** Entries naming an account: as actor, as subject (by id or email), or inside their data. */
const ABOUT = `(actor_id = $1::uuid OR subject_id IN ($1::text, $2::text) OR strpos(data::text, $1::text) > 0)`;

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
    hashVersion: Number(row.hash_version),
    actorRef: row.actor_ref,
    subjectRef: row.subject_ref,
    personalDigest: row.personal_digest,
    personalSalt: row.personal_salt,
    personalErasedAt: row.personal_erased_at === null ? null : new Date(row.personal_erased_at),
  });

/** The append-only, hash-chained audit log. */
@Injectable()
export class AuditRepository {
  constructor(
    @InjectRepository(AuditLog) private readonly log: Repository<AuditLog>,
    @InjectRepository(AuditPseudonymKey) private readonly keys: Repository<AuditPseudonymKey>,
  ) {}

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
      `INSERT INTO audit_log (${COLUMNS})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL)`,
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
        entry.hashVersion,
        entry.actorRef,
        entry.subjectRef,
        entry.personalDigest,
        entry.personalSalt,
      ],
    );
  }

  /** The pseudonym key of each of `subjectIds`, made (32 random bytes, given) where there is none yet. */
  async pseudonymKeys(tx: Tx, fresh: Map<string, string>): Promise<Map<string, string>> {
    if (fresh.size === 0) return new Map();
    const manager = managerOf(tx);
    const ids = [...fresh.keys()];
    await manager.query(
      `INSERT INTO audit_pseudonym_keys (subject_id, secret)
       SELECT * FROM unnest($1::uuid[], $2::char(64)[]) ON CONFLICT (subject_id) DO NOTHING`,
      [ids, ids.map((id) => fresh.get(id))],
    );
    const rows = await manager.query<Array<{ subject_id: string; secret: string }>>(
      'SELECT subject_id, secret FROM audit_pseudonym_keys WHERE subject_id = ANY($1::uuid[])',
      [ids],
    );
    return new Map(rows.map((row) => [row.subject_id, row.secret]));
  }

  /** Destroys an account's pseudonym key (idempotent). */
  async destroyPseudonymKey(subjectId: string): Promise<void> {
    await this.keys.delete({ subjectId });
  }

  /** Up to `limit` entries about an account after id `after`, in id order (its export). */
  async aboutAfter(userId: string, email: string, after: string, limit: number): Promise<AuditLog[]> {
    const rows = await this.log.query<AuditRow[]>(
      `SELECT ${COLUMNS} FROM audit_log WHERE ${ABOUT} AND id > $3 ORDER BY id LIMIT $4`,
      [userId, email, after, limit],
    );
    return rows.map(toEntry);
  }

  /**
   * Blanks the personal fields (and the salt that would let them be
   * confirmed) of every version-2 entry about an account; answers how many.
   * Version-1 entries about it are blanked too and marked erased: their hash
   * covered those fields, so verification can only check their links.
   */
  async erasePersonalFields(userId: string, email: string): Promise<number> {
    const rows = await returningRows<{ id: string }>(
      this.log,
      `UPDATE audit_log SET actor_id = NULL, subject_id = NULL, reason = NULL, data = '{}'::jsonb,
              personal_salt = NULL, personal_erased_at = now()
        WHERE ${ABOUT} RETURNING id`,
      [userId, email],
    );
    return rows.length;
  }

  /**
   * A page of entries, newest first. Raw SQL because TypeORM writes skip/take
   * into the SQL text; here every value is a bound parameter.
   */
  async page(query: { page: number; limit: number; eventType?: string }): Promise<[AuditLog[], number]> {
    const filter = 'WHERE ($1::varchar IS NULL OR event_type = $1)';
    const eventType = query.eventType ?? null;
    const rows = await this.log.query<AuditRow[]>(
      `SELECT ${COLUMNS} FROM audit_log ${filter} ORDER BY id DESC LIMIT $2 OFFSET $3`,
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
