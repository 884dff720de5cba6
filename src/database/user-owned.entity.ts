import { randomUUID } from 'node:crypto';
import { Column, CreateDateColumn, ForeignKey, PrimaryColumn } from 'typeorm';

/**
 * The columns every per-user row shares: a uuid id made in the app, the owner
 * (deleted with the user) and the creation time. The owner is referenced by
 * the entity's name, not its class, so a module's entities never import the
 * auth module's: `users` is the root every module's data hangs from, owned by
 * the auth module alone.
 */
export abstract class UserOwnedEntity {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  @ForeignKey('User', { onDelete: 'CASCADE' })
  @Column('uuid')
  userId!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
