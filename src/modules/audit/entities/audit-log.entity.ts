import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Append-only, hash-chained: chain_hash = sha256(prev_hash ‖ canonical JSON of
 * the row). Ids come from the sequence inside the append lock, so id order is
 * chain order.
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
}
