import { randomUUID } from 'node:crypto';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** A version overwritten by a write without a base; kept 30 days with its blob so the client can merge. */
@Entity('storage_conflicts')
@Index('ix_storage_conflicts_user_created', ['userId', 'createdAt'])
export class StorageConflict {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  @Column('uuid')
  userId!: string;

  @Column('uuid')
  recordId!: string;

  @Column('varchar', { length: 63 })
  tableName!: string;

  @Column('int')
  version!: number;

  @Column('char', { length: 64 })
  checksum!: string;

  @Column('bigint')
  sizeBytes!: string;

  @Column('varchar', { length: 300 })
  blobKey!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
