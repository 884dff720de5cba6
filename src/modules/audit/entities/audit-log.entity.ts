import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Append-only, hash-chained. Version 1 entries (written before erasure
 * existed): chain_hash = sha256(prev_hash ‖ canonical JSON of the row).
 * Version 2: the hash covers the event, its time, the keyed pseudonyms of its
 * actor and subject, and a salted commitment (`personal_digest`) to the
 * personal fields (actor_id, subject_id, reason, data), which stay outside
 * the hash. Erasing an account blanks those fields and the salt in its
 * entries: the commitment, the pseudonyms and so the chain stay verifiable.
 * Ids come from the sequence inside the append lock, so id order is chain order.
 */
@Entity('audit_log')
export class AuditLog {
  /** bigserial; the append takes nextval() itself inside the lock. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Index('ix_audit_log_event_type')
  @Column('varchar', { length: 64 })
  eventType!: string;

  @Column('uuid', { nullable: true })
  actorId!: string | null;

  @Column('varchar', { length: 200, nullable: true })
  subjectId!: string | null;

  @Column('varchar', { length: 500, nullable: true })
  reason!: string | null;

  @Column('jsonb', { default: () => "'{}'" })
  data!: Record<string, unknown>;

  @Column('timestamptz')
  createdAt!: Date;

  @Column('char', { length: 64 })
  prevHash!: string;

  @Column('char', { length: 64 })
  chainHash!: string;

  /** 1: the hash covers every field; 2: personal fields through `personalDigest` only. */
  @Column('smallint', { default: 1 })
  hashVersion!: number;

  /** Keyed pseudonym of the actor (version 2): stays, unlinkable, once the account's key is destroyed. */
  @Column('uuid', { nullable: true })
  actorRef!: string | null;

  /** Keyed pseudonym of a subject that is a UUID (version 2). */
  @Column('uuid', { nullable: true })
  subjectRef!: string | null;

  /** sha256(salt ‖ canonical JSON of actor_id, subject_id, reason, data) (version 2). */
  @Column('char', { length: 64, nullable: true })
  personalDigest!: string | null;

  /** Random per entry, so the digest of guessable fields cannot be confirmed; null once erased. */
  @Column('char', { length: 64, nullable: true })
  personalSalt!: string | null;

  /** When the personal fields were erased (an account erasure); the chain still verifies. */
  @Column('timestamptz', { nullable: true })
  personalErasedAt!: Date | null;
}
