import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { UserOwnedEntity } from '../../../database/user-owned.entity.js';

/** A user's install of a plugin: one row per user and plugin, so installing twice counts once. */
@Entity('plugin_installs')
@Index('uq_plugin_installs_user_plugin', ['userId', 'pluginId'], { unique: true })
@Index('ix_plugin_installs_plugin', ['pluginId'])
export class PluginInstall extends UserOwnedEntity {
  @ForeignKey('Plugin', { onDelete: 'CASCADE' })
  @Column('varchar', { length: 64 })
  pluginId!: string;
}
