import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { BlobStore } from '../../common/blob-store/blob-store.js';
import { PluginCatalogRepository } from './plugin-catalog.repository.js';
import { PluginSigningService } from './plugin-signing.service.js';
import { SEED_PACKAGES, sha256Hex, storedZip } from './seed-packages.js';

/**
 * At start: puts any missing seed package in the blob store (a migration
 * cannot reach it) and signs approved versions that have no signature yet
 * (the key exists only once the app runs). Both are idempotent, so every
 * instance may run them.
 */
@Injectable()
export class PluginSeedsService implements OnApplicationBootstrap {
  private readonly logger = new Logger('PluginSeeds');

  constructor(
    private readonly repository: PluginCatalogRepository,
    private readonly blobs: BlobStore,
    private readonly signing: PluginSigningService,
  ) {}

  /**
   * A blob store or database that is away at start does not stop the API
   * (its routes answer 503 meanwhile): the seeds are completed at the next
   * start of any instance.
   */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.storeSeedPackages();
      await this.signApproved();
    } catch (err) {
      this.logger.warn(`Seed packages not completed (the next start retries): ${(err as Error).message}`);
    }
  }

  private async storeSeedPackages(): Promise<void> {
    for (const seed of SEED_PACKAGES) {
      const existing = await this.blobs.get(seed.blobKey, { start: 0, end: 0 });
      if (existing) {
        existing.stream.destroy();
        continue;
      }
      const bytes = storedZip(seed.files);
      await this.blobs.put(seed.blobKey, bytes, { checksum: sha256Hex(bytes), contentLength: bytes.length });
      this.logger.log(`stored the seed package of ${seed.pluginId}`);
    }
  }

  private async signApproved(): Promise<void> {
    for (const version of await this.repository.unsignedApproved()) {
      await this.repository.setSignature(version.id, await this.signing.signDigest(version.sha256));
    }
  }
}
