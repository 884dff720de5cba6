import { randomUUID } from 'node:crypto';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export const ERASURE_STATUSES = ['scheduled', 'running', 'retrying', 'completed', 'canceled'] as const;
export type ErasureStatus = (typeof ERASURE_STATUSES)[number];

/**
 * An account's erasure: scheduled when it was disabled, run once due.
 * `progress` records each participant that finished, so a run after a crash
 * or a failure resumes with the first that had not. Once completed, the
 * account's id and email are cleared: only the pseudonym remains.
 */
@Entity('account_erasures')
export class AccountErasure {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  /** Null once completed. One live erasure per account (partial unique index). */
  @Index('uq_account_erasures_user_live', {
    unique: true,
    where: `status IN ('scheduled', 'running', 'retrying')`,
  })
  @Column('uuid', { nullable: true })
  userId!: string | null;

  @Column('varchar', { length: 320, nullable: true })
  email!: string | null;

  /** What kept rows (sales ledger, audit chain) name the account by. */
  @Column('uuid')
  pseudonym!: string;

  @Index('ix_account_erasures_status')
  @Column('varchar', { length: 16 })
  status!: ErasureStatus;

  @CreateDateColumn({ type: 'timestamptz' })
  requestedAt!: Date;

  /** The end of the grace period: restorable until then, erased from then on. */
  @Column('timestamptz')
  scheduledFor!: Date;

  /** Participant name → when it finished (ms). */
  @Column('jsonb', { default: () => "'{}'" })
  progress!: Record<string, number>;

  @Column('int', { default: 0 })
  attempts!: number;

  /** The last failure (a participant and its error), shown to admins; no personal data. */
  @Column('varchar', { length: 500, nullable: true })
  lastError!: string | null;

  @Column('timestamptz', { nullable: true })
  nextAttemptAt!: Date | null;

  /** A running erasure's lease: past it, another run takes over (the first one crashed). */
  @Column('timestamptz', { nullable: true })
  leaseUntil!: Date | null;

  @Column('timestamptz', { nullable: true })
  completedAt!: Date | null;
}
