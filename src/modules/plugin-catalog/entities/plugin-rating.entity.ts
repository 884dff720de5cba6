import { Column, Entity, ForeignKey, Index, UpdateDateColumn } from 'typeorm';
import { UserOwnedEntity } from '../../../database/user-owned.entity.js';

/** A user's rating of a plugin: one per user and plugin, a new one replaces it. */
@Entity('plugin_ratings')
@Index('uq_plugin_ratings_user_plugin', ['userId', 'pluginId'], { unique: true })
@Index('ix_plugin_ratings_plugin', ['pluginId'])
export class PluginRating extends UserOwnedEntity {
  @ForeignKey('Plugin', { onDelete: 'CASCADE' })
  @Column('varchar', { length: 64 })
  pluginId!: string;

  @Column('smallint')
  stars!: number;

  /** User content shown to others: stored as given, served as JSON only. */
  @Column('text', { nullable: true })
  comment!: string | null;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
