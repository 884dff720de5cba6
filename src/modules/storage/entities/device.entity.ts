import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A device of a user and how far it has pulled the changes feed. */
@Entity('devices')
export class Device {
  @PrimaryColumn('uuid')
  userId!: string;

  @PrimaryColumn('varchar', { length: 100 })
  deviceId!: string;

  @Column('varchar', { length: 100, nullable: true })
  name!: string | null;

  @Column('timestamptz', { nullable: true })
  lastSyncAt!: Date | null;

  /** Last seq the device pulled (0 = nothing yet). */
  @Column('bigint', { default: 0 })
  cursorSeq!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
