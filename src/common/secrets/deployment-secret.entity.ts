import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * Values generated once per deployment and shared by every instance (the
 * prompt canary). Never sent to a client, never logged.
 */
@Entity('deployment_secrets')
export class DeploymentSecret {
  @PrimaryColumn('varchar', { length: 64 })
  name!: string;

  @Column('text')
  value!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
