import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Per-user bytes in use (records, conflict copies, vectors) and the next change seq. Locked by every write. */
@Entity('storage_usage')
export class StorageUsage {
  @PrimaryColumn('uuid')
  userId!: string;

  @Column('bigint', { default: 0 })
  usedBytes!: string;

  @Column('bigint', { default: 1 })
  nextSeq!: string;

  /** Whether the 80 % alert has been sent (reset when usage drops below). */
  @Column('boolean', { default: false })
  alerted!: boolean;
}
