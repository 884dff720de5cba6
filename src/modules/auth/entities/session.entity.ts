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
import { User } from './user.entity.js';

/** One device login; owns one family of rotating refresh tokens. */
@Entity('sessions')
export class Session {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  @Index('ix_sessions_user_id')
  @Column('uuid')
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;

  @Column('varchar', { length: 100, nullable: true })
  deviceName!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz')
  lastUsedAt!: Date;

  @Column('timestamptz', { nullable: true })
  revokedAt!: Date | null;

  /** logout, deleted, reuse_detected, account_disabled */
  @Column('varchar', { length: 32, nullable: true })
  revokedReason!: string | null;
}
