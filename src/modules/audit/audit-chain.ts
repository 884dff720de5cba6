import { createHash, createHmac } from 'node:crypto';
import { canonicalJson } from '../../common/canonical-json.js';

export const GENESIS = '0'.repeat(64);

/** The fields of an entry the chain covers, by hash version. */
export interface ChainFields {
  id: string;
  eventType: string;
  actorId: string | null;
  subjectId: string | null;
  reason: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
  hashVersion?: number;
  actorRef?: string | null;
  subjectRef?: string | null;
  personalDigest?: string | null;
  personalSalt?: string | null;
  personalErasedAt?: Date | null;
}

/** Version 1: every field, personal ones included (entries written before erasure existed). */
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

/** Version 2: the event, its time, the pseudonyms and the commitment to the personal fields. */
export function chainHashV2(prevHash: string, row: ChainFields): string {
  const canonical = canonicalJson({
    v: 2,
    id: row.id,
    event_type: row.eventType,
    created_at: row.createdAt.getTime(),
    actor_ref: row.actorRef ?? null,
    subject_ref: row.subjectRef ?? null,
    personal_digest: row.personalDigest ?? null,
  });
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

/** The salted commitment to an entry's personal fields. */
export function personalDigest(salt: string, row: ChainFields): string {
  const canonical = canonicalJson({
    actor_id: row.actorId,
    subject_id: row.subjectId,
    reason: row.reason,
    data: row.data,
  });
  return createHash('sha256').update(salt).update(canonical).digest('hex');
}

/**
 * Whether `row` hashes to `chainHash` after `prev`. An erased version-2 entry
 * is checked through its commitment alone; an erased version-1 entry (whose
 * hash covered the fields now blanked) only by its links, which still catch
 * any entry removed, inserted or reordered around it.
 */
export function entryHolds(prev: string, row: ChainFields & { chainHash: string }): boolean {
  if ((row.hashVersion ?? 1) === 1) {
    return row.personalErasedAt ? true : chainHash(prev, row) === row.chainHash;
  }
  if (!row.personalErasedAt) {
    if (!row.personalSalt || personalDigest(row.personalSalt, row) !== row.personalDigest) return false;
  }
  return chainHashV2(prev, row) === row.chainHash;
}

/** The pseudonym of `subjectId` under its key: a UUID (version 8 layout) from HMAC-SHA256. */
export function pseudonymOf(subjectId: string, secretHex: string): string {
  const bytes = createHmac('sha256', Buffer.from(secretHex, 'hex'))
    .update(subjectId)
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
