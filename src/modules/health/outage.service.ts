import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { BlobStore } from '../../common/blob-store/blob-store.js';
import { OutageTracker } from '../../common/outage/outage.js';
import { DatabaseService } from '../../database/database.service.js';

/** The app's outage tracker, probing the database and the blob store while they are down. */
@Injectable()
export class OutageService extends OutageTracker implements OnApplicationShutdown {
  constructor(database: DatabaseService, blobs: BlobStore) {
    super();
    this.setProbe('database', () => database.ping());
    this.setProbe('blob_store', () => blobs.ping());
  }

  onApplicationShutdown(): void {
    this.stop();
  }
}
