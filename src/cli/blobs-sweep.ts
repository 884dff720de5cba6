import 'reflect-metadata';
import { BlobSweepService } from '../common/blob-store/blob-sweep.service.js';
import { cliConfig, print, runCli, withApp } from './bootstrap.js';

/**
 * `npm run blobs:sweep`: remove now the blobs no row references and the leftovers of interrupted
 * writes that are older than BLOB_SWEEP_GRACE_MS; prints what was removed as one JSON line. This
 * run is the sweep: the configuration has no background one beside it.
 */
runCli(() =>
  withApp(cliConfig(), async (app) => {
    const report = await app.get(BlobSweepService).sweep();
    print(report ? JSON.stringify(report) : 'another instance is sweeping now; nothing done');
    return 0;
  }),
);
