import type { S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from '../blob-store/blob-store.js';
import type { BlobSweepService } from '../blob-store/blob-sweep.service.js';
import type { AppMetrics } from './app-metrics.js';

const seconds = (since: number) => (performance.now() - since) / 1000;

/** What a blob key holds, from the key layouts the modules write (never the key itself). */
export function blobKind(key: string): 'record' | 'backup' | 'plugin' | 'other' {
  if (key.startsWith('plugins/')) return 'plugin';
  if (/^[0-9a-f-]{36}\/backups\/[^/]+$/.test(key)) return 'backup';
  if (/^[0-9a-f-]{36}\//.test(key)) return 'record';
  return 'other';
}

/**
 * Bytes written and read, write times, and each backup upload's throughput,
 * wrapping the blob store's `put` and `get` at the port. Read bytes count
 * when a read stream has been read to its end.
 */
export function observeBlobStore(store: BlobStore, metrics: AppMetrics): void {
  const driver = store.driver;
  const put = store.put.bind(store);
  const get = store.get.bind(store);
  store.put = async (...args: Parameters<BlobStore['put']>) => {
    const started = performance.now();
    const result = await put(...args);
    const kind = blobKind(args[0]);
    const took = seconds(started);
    metrics.blobWritten.inc({ driver, kind }, result.size);
    metrics.blobPutDuration.observe({ driver, kind }, took);
    if (kind === 'backup' && took > 0) metrics.backupThroughput.observe(result.size / took);
    return result;
  };
  store.get = async (...args: Parameters<BlobStore['get']>) => {
    const blob = await get(...args);
    if (!blob) return blob;
    const [key, range] = args;
    const bytes = range ? range.end - range.start + 1 : blob.size;
    blob.stream.once('end', () => metrics.blobRead.inc({ driver, kind: blobKind(key) }, bytes));
    return blob;
  };
  const s3 = (store as { client?: S3Client }).client;
  if (driver === 's3' && s3) observeS3(s3, metrics);
}

/** Every S3 request (retries included), by command, through the SDK's own middleware stack. */
function observeS3(client: S3Client, metrics: AppMetrics): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      const started = performance.now();
      try {
        return await next(args);
      } catch (err) {
        metrics.s3Errors.inc({ command });
        throw err;
      } finally {
        metrics.s3Duration.observe({ command }, seconds(started));
      }
    },
    { step: 'initialize', name: 'adiuvaMetrics' },
  );
}

/** What each sweep removed, by kind, from the report it already returns. */
export function observeSweep(sweeps: BlobSweepService, metrics: AppMetrics): void {
  const sweep = sweeps.sweep.bind(sweeps);
  sweeps.sweep = async (...args: Parameters<BlobSweepService['sweep']>) => {
    try {
      const report = await sweep(...args);
      metrics.sweepRuns.inc({ outcome: report ? 'done' : 'skipped' });
      for (const [kind, tally] of Object.entries(report?.removed ?? {})) {
        metrics.sweepRemoved.inc({ kind }, tally.count);
        metrics.sweepRemovedBytes.inc({ kind }, tally.bytes);
      }
      return report;
    } catch (err) {
      metrics.sweepRuns.inc({ outcome: 'failed' });
      throw err;
    }
  };
}
