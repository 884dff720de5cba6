import { Global, Module } from '@nestjs/common';
import { join } from 'node:path';
import { AppConfig } from '../../config/app-config.js';
import { BlobStore } from './blob-store.js';
import { BlobSweepRepository } from './blob-sweep.repository.js';
import { BlobSweepService } from './blob-sweep.service.js';
import { FileBlobStore } from './file-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

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
      useFactory: (config: AppConfig): BlobStore =>
        config.s3.bucket
          ? new S3BlobStore(config.s3.bucket, config.s3)
          : new FileBlobStore(join(config.dataDir, 'blobs')),
    },
    BlobSweepRepository,
    BlobSweepService,
  ],
  exports: [BlobStore, BlobSweepService],
})
export class BlobStoreModule {}
