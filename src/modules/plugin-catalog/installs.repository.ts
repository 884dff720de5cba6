import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { PluginInstall } from './entities/plugin-install.entity.js';
import { PluginRating } from './entities/plugin-rating.entity.js';

/** An install with what the desktop app needs to list it. */
export interface InstalledRow {
  plugin_id: string;
  name: string;
  installed_at: Date;
  quarantined: boolean;
  /** The live (newest approved) version; null when none is left. */
  version: string | null;
}

/**
 * Installs and ratings, one row per user and plugin each (unique indexes),
 * so counts taken from them are exact whatever runs concurrently.
 */
@Injectable()
export class InstallsRepository {
  constructor(
    @InjectRepository(PluginInstall) private readonly installs: Repository<PluginInstall>,
    @InjectRepository(PluginRating) private readonly ratings: Repository<PluginRating>,
  ) {}

  /** Records the install; a second install of the same plugin by the same user changes nothing. */
  async install(userId: string, pluginId: string): Promise<void> {
    await this.installs
      .createQueryBuilder()
      .insert()
      .values(Object.assign(new PluginInstall(), { userId, pluginId }))
      .orIgnore()
      .execute();
  }

  /** Idempotent. */
  async uninstall(userId: string, pluginId: string): Promise<void> {
    await this.installs.delete({ userId, pluginId });
  }

  installCount(pluginId: string): Promise<number> {
    return this.installs.countBy({ pluginId });
  }

  hasInstalled(userId: string, pluginId: string): Promise<boolean> {
    return this.installs.existsBy({ userId, pluginId });
  }

  /** The user's installs, newest first, quarantined ones included (the app disables them). */
  installed(userId: string): Promise<InstalledRow[]> {
    return this.installs.query(
      `SELECT i.plugin_id, p.name, i.created_at AS installed_at, p.quarantined_at IS NOT NULL AS quarantined,
              (SELECT v.version FROM plugin_versions v WHERE v.plugin_id = p.id AND v.status = 'approved'
                ORDER BY v.created_at DESC, v.id DESC LIMIT 1) AS version
         FROM plugin_installs i JOIN plugins p ON p.id = i.plugin_id
        WHERE i.user_id = $1 ORDER BY i.created_at DESC, i.plugin_id`,
      [userId],
    );
  }

  /** One rating per user and plugin: a new one replaces the old (stars, comment and time). */
  /** The entity instances carry their generated id (a plain object would insert a null one). */
  async rate(userId: string, pluginId: string, stars: number, comment: string | null): Promise<void> {
    await this.ratings
      .createQueryBuilder()
      .insert()
      .values(Object.assign(new PluginRating(), { userId, pluginId, stars, comment }))
      .orUpdate(['stars', 'comment', 'updated_at'], ['user_id', 'plugin_id'])
      .execute();
  }

  /** The plugin's count of ratings and their mean (2 decimals), exact at the time of the read. */
  async ratingSummary(pluginId: string): Promise<{ rating_count: number; avg_rating: number | null }> {
    const row = await this.ratings
      .createQueryBuilder('r')
      .select('count(*)::int', 'rating_count')
      .addSelect('round(avg(r.stars), 2)::float8', 'avg_rating')
      .where('r.plugin_id = :pluginId', { pluginId })
      .getRawOne<{ rating_count: number; avg_rating: number | null }>();
    return row ?? { rating_count: 0, avg_rating: null };
  }

  /** One page of a plugin's ratings, newest first. */
  ratingsOf(pluginId: string, limit: number, offset: number): Promise<[PluginRating[], number]> {
    return this.ratings.findAndCount({
      where: { pluginId },
      order: { updatedAt: 'DESC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
  }
}
