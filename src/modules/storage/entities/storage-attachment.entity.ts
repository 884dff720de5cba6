import { Check, Column, Entity, Index } from 'typeorm';
import { UserOwnedEntity } from '../../../database/user-owned.entity.js';

export type AttachmentStatus = 'pending' | 'complete';

/**
 * A large encrypted file belonging to a record, uploaded by the client straight to the blob store
 * under `blobKey`. A pending one holds a quota reservation of `sizeBytes` until it is completed
 * (the reservation becomes usage), deleted or swept after `expiresAt`.
 */
@Entity('storage_attachments')
@Index('ix_storage_attachments_record', ['userId', 'recordId'])
@Index('ix_storage_attachments_pending', ['expiresAt'], { where: `status = 'pending'` })
@Check('ck_storage_attachments_status', `status IN ('pending', 'complete')`)
export class StorageAttachment extends UserOwnedEntity {
  @Column('uuid')
  recordId!: string;

  @Column('bigint')
  sizeBytes!: string;

  @Column('char', { length: 64 })
  checksum!: string;

  @Column('varchar', { length: 255, nullable: true })
  contentType!: string | null;

  @Column('varchar', { length: 300 })
  blobKey!: string;

  /** The store's multipart upload id while parts arrive; null for one PUT (and on the files driver). */
  @Column('varchar', { length: 1024, nullable: true })
  uploadId!: string | null;

  /** Bytes of every part but the last; 0 for one PUT. */
  @Column('bigint', { default: '0' })
  partSize!: string;

  @Column('varchar', { length: 16, default: 'pending' })
  status!: AttachmentStatus;

  /** When a pending upload stops being accepted and is swept with its reservation. */
  @Column('timestamptz')
  expiresAt!: Date;

  @Column('timestamptz', { nullable: true })
  completedAt!: Date | null;
}
