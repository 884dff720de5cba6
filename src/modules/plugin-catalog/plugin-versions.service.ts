import { Injectable } from '@nestjs/common';
import type { PluginManifest } from '../../common/plugins/plugin-manifest.js';
import type { Tx } from '../../database/unit-of-work.js';
import type { PluginVersion } from './entities/plugin-version.entity.js';
import type { Plugin } from './entities/plugin.entity.js';
import {
  type NewPluginVersion,
  type PluginFields,
  PluginVersionsRepository,
  type QueuedVersion,
  type ReviewOutcome,
} from './plugin-versions.repository.js';

/** The catalog fields of a plugin, as a checked manifest gives them. */
export const pluginFieldsOf = (m: PluginManifest): PluginFields => ({
  id: m.id,
  name: m.name,
  description: m.description,
  category: m.category,
  priceCents: m.price_cents,
});

/**
 * The catalog's plugins and versions as plugin submissions write and review
 * them: claiming an id, recording a version, deciding on it, quarantining a
 * plugin and moving its packages. The catalog owns these tables; the rules
 * (who may submit, the pending cap, who may review) are the submissions
 * module's, which runs them in its unit of work and passes its transaction.
 */
@Injectable()
export class PluginVersionsService {
  constructor(private readonly repository: PluginVersionsRepository) {}

  /** Serialises one author's submissions for the rest of the transaction. */
  lockAuthor(tx: Tx, authorId: string): Promise<void> {
    return this.repository.lockAuthor(tx, authorId);
  }

  /** How many of the author's versions wait for a person or for checks to be run again. */
  pendingCount(authorId: string, tx?: Tx): Promise<number> {
    return this.repository.pendingCount(authorId, tx);
  }

  /** The plugin row holding the id: the caller's new one, or whoever's came first. */
  claim(tx: Tx, fields: PluginFields, authorId: string): Promise<Plugin> {
    return this.repository.claim(tx, fields, authorId);
  }

  findPlugin(id: string): Promise<Plugin | null> {
    return this.repository.findPlugin(id);
  }

  hasVersions(tx: Tx, pluginId: string): Promise<boolean> {
    return this.repository.hasVersions(tx, pluginId);
  }

  /** The version of `pluginId` named `version`, locked for the rest of the transaction. */
  findVersionForUpdate(tx: Tx, pluginId: string, version: string): Promise<PluginVersion | null> {
    return this.repository.findVersionForUpdate(tx, pluginId, version);
  }

  insertVersion(tx: Tx, version: NewPluginVersion): Promise<void> {
    return this.repository.insertVersion(tx, version);
  }

  deleteVersion(tx: Tx, id: string): Promise<void> {
    return this.repository.deleteVersion(tx, id);
  }

  /** Ids and names of every plugin not by `authorId` (for the name-squatting check). */
  othersPlugins(authorId: string): Promise<Array<{ id: string; name: string }>> {
    return this.repository.othersPlugins(authorId);
  }

  /** The author's plugins, newest first, each with every version, newest first. */
  mine(authorId: string): Promise<Array<{ plugin: Plugin; versions: PluginVersion[] }>> {
    return this.repository.mine(authorId);
  }

  reviewQueue(limit: number, offset: number): Promise<{ items: QueuedVersion[]; total: number }> {
    return this.repository.reviewQueue(limit, offset);
  }

  /** The versions of a plugin still waiting for a person, oldest first. */
  pendingVersions(pluginId: string): Promise<PluginVersion[]> {
    return this.repository.pendingVersions(pluginId);
  }

  /** Records a decision on a version still waiting; two admins deciding at once make one decision. */
  decide(
    tx: Tx,
    versionId: string,
    decision: { status: 'approved' | 'rejected'; notes: string | null; signature: string | null },
  ): Promise<ReviewOutcome> {
    return this.repository.decide(tx, versionId, decision);
  }

  /** Copies an approved manifest's catalog fields onto its plugin. */
  updateCatalogFields(tx: Tx, fields: PluginFields): Promise<void> {
    return this.repository.updateCatalogFields(tx, fields);
  }

  /** Hides a plugin; false when it was already quarantined (the first reason stays). */
  quarantine(tx: Tx, id: string, reason: string): Promise<boolean> {
    return this.repository.quarantine(tx, id, reason);
  }

  /** The versions of a plugin whose package is stored (every one). */
  packagesOf(pluginId: string): Promise<PluginVersion[]> {
    return this.repository.packagesOf(pluginId);
  }

  /** Points a version at its package's new key; false when the row moved on meanwhile. */
  movePackage(versionId: string, fromKey: string, toKey: string): Promise<boolean> {
    return this.repository.movePackage(versionId, fromKey, toKey);
  }
}
