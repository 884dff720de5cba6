import { Injectable } from '@nestjs/common';
import { BlobReferences } from '../../common/blob-store/blob-references.js';
import { PluginVersionsRepository } from './plugin-versions.repository.js';

/**
 * Plugin packages, one per version row: `plugins/{plugin_id}/{version id or
 * seed version}.zip`. Plugin submissions and review write them too, always as
 * a catalog version's package (through PluginVersionsService).
 */
@Injectable()
export class PluginCatalogBlobReferences extends BlobReferences {
  readonly kind = 'plugin_package';
  readonly pattern = /^plugins\/[a-z0-9-]{1,64}\/[0-9A-Za-z.+-]{1,64}\.zip$/;

  constructor(private readonly versions: PluginVersionsRepository) {
    super();
  }

  async referenced(keys: string[]): Promise<Set<string>> {
    return new Set(await this.versions.referencedBlobKeys(keys));
  }
}
