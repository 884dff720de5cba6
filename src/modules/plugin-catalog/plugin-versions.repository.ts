import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Not, type Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { returningRows } from '../../database/sql.js';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { PluginVersion, type VersionStatus } from './entities/plugin-version.entity.js';
import { Plugin } from './entities/plugin.entity.js';

/** The catalog fields of a plugin, as a manifest gives them. */
export type PluginFields = Pick<Plugin, 'id' | 'name' | 'description' | 'category' | 'priceCents'>;

/** A version row to insert: every column but its creation time, which the database sets. */
export type NewPluginVersion = Omit<PluginVersion, 'createdAt'>;

/** A version waiting for a person, with its plugin's author. */
export interface QueuedVersion {
  version: PluginVersion;
  authorId: string;
}

/** How a review ended: the version reviewed, or why nothing changed. */
export type ReviewOutcome =
  { ok: true; version: PluginVersion } | { ok: false; reason: 'not_pending'; status: VersionStatus };

/** Which statuses a decision may leave: checks that did not complete allow only a rejection. */
const decidable = (status: 'approved' | 'rejected'): VersionStatus[] =>
  status === 'approved' ? ['pending_review'] : ['pending_review', 'checks_errored'];

/**
 * The plugins and plugin_versions rows a developer's submissions write and an
 * admin decides on (plugin submissions reach them through
 * PluginVersionsService). Catalog reads are in PluginCatalogRepository.
 */
@Injectable()
export class PluginVersionsRepository {
  constructor(
    @InjectRepository(Plugin) private readonly plugins: Repository<Plugin>,
    @InjectRepository(PluginVersion) private readonly versions: Repository<PluginVersion>,
  ) {}

  /**
   * Serialises one author's submissions for the rest of the transaction, so
   * the pending-submission cap holds under concurrent submissions.
   */
  async lockAuthor(tx: Tx, authorId: string): Promise<void> {
    const manager = managerOf(tx);
    await manager.query("SELECT pg_advisory_xact_lock(hashtextextended('plugin-author:' || $1, 0))", [
      authorId,
    ]);
  }

  /** How many of the author's versions wait for a person or for checks to be run again. */
  pendingCount(authorId: string, tx?: Tx): Promise<number> {
    return managerOf(tx, this.versions.manager)
      .getRepository(PluginVersion)
      .createQueryBuilder('v')
      .innerJoin(Plugin, 'p', 'p.id = v.plugin_id')
      .where('p.author_id = :authorId', { authorId })
      .andWhere("v.status IN ('pending_review', 'checks_errored')")
      .getCount();
  }

  /**
   * Creates the plugin row when the id is free and answers the row that holds
   * the id (the caller's new one, or an existing one of whoever came first).
   */
  async claim(tx: Tx, fields: PluginFields, authorId: string): Promise<Plugin> {
    const manager = managerOf(tx);
    await manager
      .createQueryBuilder()
      .insert()
      .into(Plugin)
      .values({ ...fields, authorId })
      .orIgnore()
      .execute();
    return manager.getRepository(Plugin).findOneByOrFail({ id: fields.id });
  }

  findPlugin(id: string, tx?: Tx): Promise<Plugin | null> {
    return managerOf(tx, this.plugins.manager).getRepository(Plugin).findOneBy({ id });
  }

  /** The version row of `pluginId` named `version`, locked for the rest of the transaction. */
  findVersionForUpdate(tx: Tx, pluginId: string, version: string): Promise<PluginVersion | null> {
    const manager = managerOf(tx);
    return manager
      .getRepository(PluginVersion)
      .findOne({ where: { pluginId, version }, lock: { mode: 'pessimistic_write' } });
  }

  hasVersions(tx: Tx, pluginId: string): Promise<boolean> {
    const manager = managerOf(tx);
    return manager.getRepository(PluginVersion).existsBy({ pluginId });
  }

  async insertVersion(tx: Tx, version: NewPluginVersion): Promise<void> {
    const manager = managerOf(tx);
    const row = Object.assign(new PluginVersion(), version);
    // The jsonb columns (manifest, checks) are plain JSON values TypeORM's deep-partial type cannot express.
    await manager.getRepository(PluginVersion).insert(row as QueryDeepPartialEntity<PluginVersion>);
  }

  async deleteVersion(tx: Tx, id: string): Promise<void> {
    const manager = managerOf(tx);
    await manager.getRepository(PluginVersion).delete({ id });
  }

  /** Ids and names of every plugin not by `authorId` (the name-squatting check compares against them). */
  othersPlugins(authorId: string): Promise<Array<{ id: string; name: string }>> {
    return this.plugins.find({ select: { id: true, name: true }, where: { authorId: Not(authorId) } });
  }

  /** The author's plugins, newest first, with every version of each, newest first. */
  async mine(authorId: string): Promise<Array<{ plugin: Plugin; versions: PluginVersion[] }>> {
    const plugins = await this.plugins.find({ where: { authorId }, order: { createdAt: 'DESC', id: 'ASC' } });
    const versions = plugins.length
      ? await this.versions.find({
          where: { pluginId: In(plugins.map((p) => p.id)) },
          order: { createdAt: 'DESC', id: 'DESC' },
        })
      : [];
    return plugins.map((plugin) => ({ plugin, versions: versions.filter((v) => v.pluginId === plugin.id) }));
  }

  /** Every version of a plugin, newest first (what its author and admins see). */
  allVersions(pluginId: string): Promise<PluginVersion[]> {
    return this.versions.find({ where: { pluginId }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  /** One page of the versions waiting for a person (or for checks that did not complete), oldest first. */
  async reviewQueue(limit: number, offset: number): Promise<{ items: QueuedVersion[]; total: number }> {
    const [versions, total] = await this.versions.findAndCount({
      where: { status: In(['pending_review', 'checks_errored']) },
      order: { createdAt: 'ASC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    const plugins = versions.length
      ? await this.plugins.find({ where: { id: In([...new Set(versions.map((v) => v.pluginId))]) } })
      : [];
    const authorOf = new Map(plugins.map((p) => [p.id, p.authorId]));
    return {
      items: versions.map((version) => ({ version, authorId: authorOf.get(version.pluginId)! })),
      total,
    };
  }

  /** The versions of a plugin still waiting for a person, oldest first. */
  pendingVersions(pluginId: string): Promise<PluginVersion[]> {
    return this.versions.find({
      where: { pluginId, status: In(['pending_review', 'checks_errored']) },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  /**
   * Records a decision on a version still waiting (only one whose checks all
   * ran may be approved): the conditional
   * update makes two admins deciding at once produce one decision.
   */
  async decide(
    tx: Tx,
    versionId: string,
    decision: { status: 'approved' | 'rejected'; notes: string | null; signature: string | null },
  ): Promise<ReviewOutcome> {
    const manager = managerOf(tx);
    const [row] = await returningRows<{ id: string }>(
      manager,
      `UPDATE plugin_versions SET status = $2, review_notes = $3, signature = $4, reviewed_at = now()
        WHERE id = $1 AND status = ANY($5::text[]) RETURNING id`,
      [versionId, decision.status, decision.notes, decision.signature, decidable(decision.status)],
    );
    const version = await manager.getRepository(PluginVersion).findOneByOrFail({ id: versionId });
    return row ? { ok: true, version } : { ok: false, reason: 'not_pending', status: version.status };
  }

  /** Copies an approved manifest's catalog fields onto its plugin. */
  async updateCatalogFields(tx: Tx, fields: PluginFields): Promise<void> {
    const manager = managerOf(tx);
    const { id, ...rest } = fields;
    await manager.getRepository(Plugin).update({ id }, rest);
  }

  /** Hides a plugin; answers false when it was already quarantined (the first reason stays). */
  async quarantine(tx: Tx, id: string, reason: string): Promise<boolean> {
    const manager = managerOf(tx);
    const rows = await returningRows<{ id: string }>(
      manager,
      `UPDATE plugins SET quarantined_at = now(), quarantine_reason = $2
        WHERE id = $1 AND quarantined_at IS NULL RETURNING id`,
      [id, reason],
    );
    return rows.length > 0;
  }

  /** The versions of a plugin whose package is stored (every one), for moving them aside. */
  packagesOf(pluginId: string): Promise<PluginVersion[]> {
    return this.versions.find({ where: { pluginId } });
  }

  /** Points a version at its package's new key; answers false when the row moved on meanwhile. */
  async movePackage(versionId: string, fromKey: string, toKey: string): Promise<boolean> {
    const result = await this.versions.update({ id: versionId, blobKey: fromKey }, { blobKey: toKey });
    return (result.affected ?? 0) > 0;
  }

  /** Of `keys` (package keys, for the blob sweep), those a version references (a small table). */
  async referencedBlobKeys(keys: string[]): Promise<string[]> {
    const rows = await this.versions.manager.query<Array<{ key: string }>>(
      'SELECT blob_key AS key FROM plugin_versions WHERE blob_key = ANY($1::text[])',
      [keys],
    );
    return rows.map((row) => row.key);
  }
}
