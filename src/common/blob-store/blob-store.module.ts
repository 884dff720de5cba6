import { Global, Module } from '@nestjs/common';
import { join } from 'node:path';
import { AppConfig } from '../../config/app-config.js';
import { BlobStore } from './blob-store.js';
import { BlobSweepRepository } from './blob-sweep.repository.js';
import { BlobSweepService } from './blob-sweep.service.js';
import { FileBlobStore } from './file-blob-store.js';

/**
 * S3 when S3_BUCKET is set, else files under DATA_DIR/blobs. Readiness reports whether it answers.
 * The sweep removes what no row references; each module that writes blobs
 * answers for its own keys through a BlobReferences (`provideBlobReferences`).
 */
@Global()
@Module({
  providers: [
    {
      provide: BlobStore,
      inject: [AppConfig],
      // The AWS SDK (a few MiB of code and heap) is loaded only when S3 is the driver.
      useFactory: async (config: AppConfig): Promise<BlobStore> => {
        if (!config.s3.bucket) return new FileBlobStore(join(config.dataDir, 'blobs'));
        const { S3BlobStore } = await import('./s3-blob-store.js');
        return new S3BlobStore(config.s3.bucket, config.s3);
      },
    },
    BlobSweepRepository,
    BlobSweepService,
  ],
  exports: [BlobStore, BlobSweepService],
})
export class BlobStoreModule {}
