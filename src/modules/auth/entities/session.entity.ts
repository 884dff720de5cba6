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

/** How a session was opened: a password (register, login) or a provider's sign-in. */
export type SignInMethod = 'password' | 'sso' | 'github';

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

  /**
   * How the session was opened; with created_at (a refresh keeps both), it
   * tells a fresh provider sign-in, which an account without a password
   * confirms its deletion with. Null for sessions older than the column.
   */
  @Column('varchar', { length: 16, nullable: true })
  signInMethod!: SignInMethod | null;

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
