import { Column, Entity, Index } from 'typeorm';
import { UserOwnedEntity } from '../../../database/user-owned.entity.js';

/** Metadata of one end-to-end encrypted record; the bytes are in the blob store under `blobKey`. */
@Entity('storage_records')
@Index('ix_storage_records_user_table', ['userId', 'tableName', 'createdAt'])
export class StorageRecord extends UserOwnedEntity {
  @Column('varchar', { length: 63 })
  tableName!: string;

  /** Null on a purged tombstone's way out; a live record always has one. */
  @Column('varchar', { length: 300, nullable: true })
  blobKey!: string | null;

  @Column('char', { length: 64 })
  checksum!: string;

  @Column('bigint')
  sizeBytes!: string;

  @Column('int')
  version!: number;

  @Column('timestamptz')
  updatedAt!: Date;

  /** Tombstone: deleted, kept 30 days for sync, then purged with its blob. */
  @Index('ix_storage_records_deleted_at')
  @Column('timestamptz', { nullable: true })
  deletedAt!: Date | null;
}
