import { randomUUID } from 'node:crypto';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export const EXPORT_STATUSES = ['queued', 'running', 'ready', 'failed', 'expired'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

/**
 * One export of an account: queued, written by a background job into one zip
 * archive in the blob store (`blob_key`), ready for 7 days, then removed by
 * the sweep (`expired`). No foreign key on the user: erasure removes them.
 */
@Entity('account_exports')
@Index('ix_account_exports_user_created', ['userId', 'createdAt'])
export class AccountExport {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  /** One export queued or running per account (partial unique index). */
  @Index('uq_account_exports_user_live', { unique: true, where: `status IN ('queued', 'running')` })
  @Column('uuid')
  userId!: string;

  @Index('ix_account_exports_status')
  @Column('varchar', { length: 16 })
  status!: ExportStatus;

  @Column('boolean', { default: false })
  includeBackups!: boolean;

  @Column('varchar', { length: 300, nullable: true })
  blobKey!: string | null;

  @Column('bigint', { nullable: true })
  sizeBytes!: string | null;

  /** SHA-256 of the whole archive, hex. */
  @Column('char', { length: 64, nullable: true })
  checksum!: string | null;

  /** Why it failed, for the owner (never a stack or a key). */
  @Column('varchar', { length: 300, nullable: true })
  error!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { nullable: true })
  startedAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  finishedAt!: Date | null;

  /** When the archive is removed (ready + 7 days). */
  @Column('timestamptz', { nullable: true })
  expiresAt!: Date | null;
}
