import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The per-user changes feed. `seq` is allocated per user under the lock of
 * the user's storage_usage row, inside the writing transaction, so seqs
 * become visible in order and a reader paging by seq never skips one.
 */
@Entity('storage_changes')
export class StorageChange {
  @PrimaryColumn('uuid')
  userId!: string;

  @PrimaryColumn('bigint')
  seq!: string;

  @Column('uuid')
  recordId!: string;

  @Column('varchar', { length: 63 })
  tableName!: string;

  /** upsert | delete */
  @Column('varchar', { length: 8 })
  op!: string;

  @Column('int')
  version!: number;

  @Column('char', { length: 64 })
  checksum!: string;

  @Column('bigint')
  sizeBytes!: string;

  @Column('timestamptz')
  changedAt!: Date;
}
