import { randomUUID } from 'node:crypto';
import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  type Relation,
} from 'typeorm';
import { User } from '../../auth/index.js';

/** One encrypted backup of a user; the bytes are in the blob store under `blobKey`. */
@Entity('backups')
@Index('ix_backups_user_created', ['userId', 'createdAt'])
export class Backup {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  @Column('uuid')
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;

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

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
