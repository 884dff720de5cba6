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

/** Integrator keys. Only the SHA-256 of the key is stored; `prefix` lets the owner recognise it. */
@Entity('api_keys')
export class ApiKey {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  @Index('ix_api_keys_user_id')
  @Column('uuid')
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;

  @Column('varchar', { length: 100 })
  name!: string;

  @Column('varchar', { length: 16 })
  prefix!: string;

  @Index('uq_api_keys_key_hash', { unique: true })
  @Column('char', { length: 64 })
  keyHash!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { nullable: true })
  lastUsedAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  revokedAt!: Date | null;
}
