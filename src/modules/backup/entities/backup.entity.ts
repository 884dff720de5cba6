import { Column, Entity, Index } from 'typeorm';
import { UserOwnedEntity } from '../../../database/user-owned.entity.js';

/** One encrypted backup of a user; the bytes are in the blob store under `blobKey`. */
@Entity('backups')
@Index('ix_backups_user_created', ['userId', 'createdAt'])
export class Backup extends UserOwnedEntity {
  @Column('varchar', { length: 300 })
  blobKey!: string;

  /** The client's backup format version (X-Backup-Version). */
  @Column('int')
  version!: number;

  /** The client's timestamp, ms (X-Backup-Timestamp). */
  @Column('bigint')
  timestamp!: string;

  @Column('char', { length: 64 })
  checksum!: string;

  @Column('bigint')
  sizeBytes!: string;

  @Column('int')
  chunkCount!: number;
}
