import { randomUUID } from 'node:crypto';
import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import type { CheckResult } from '../../../common/plugins/plugin-manifest.js';

export const VERSION_STATUSES = ['pending_review', 'approved', 'rejected', 'checks_errored'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

/**
 * One submitted version of a plugin: its manifest, the package in the blob
 * store (`blob_key`, so the blob sweep sees it referenced), the package's
 * SHA-256 and, once approved, the registry's Ed25519 signature over it.
 */
@Entity('plugin_versions')
@Check('ck_plugin_versions_status', `status IN (${VERSION_STATUSES.map((s) => `'${s}'`).join(', ')})`)
@Index('uq_plugin_versions_plugin_version', ['pluginId', 'version'], { unique: true })
@Index('ix_plugin_versions_plugin_status', ['pluginId', 'status', 'createdAt'])
export class PluginVersion {
  @PrimaryColumn('uuid')
  id: string = randomUUID();

  @ForeignKey('Plugin', { onDelete: 'CASCADE' })
  @Column('varchar', { length: 64 })
  pluginId!: string;

  @Column('varchar', { length: 64 })
  version!: string;

  @Column('jsonb')
  manifest!: Record<string, unknown>;

  @Column('varchar', { length: 16 })
  status!: VersionStatus;

  /** Lowercase hex SHA-256 of the package bytes. */
  @Column('char', { length: 64 })
  sha256!: string;

  /** Base64 Ed25519 signature over the raw 32 bytes of the SHA-256; null until approved and signed. */
  @Column('text', { nullable: true })
  signature!: string | null;

  @Column('text')
  blobKey!: string;

  /** Package size in bytes. */
  @Column('integer')
  size!: number;

  /** The automated checks' results, kept for the author and the reviewers. */
  @Column('jsonb', { default: () => "'[]'" })
  checks!: CheckResult[];

  @Column('text', { nullable: true })
  reviewNotes!: string | null;

  @Column('timestamptz', { nullable: true })
  reviewedAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
