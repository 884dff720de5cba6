import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../../app.module.js';
import { loadConfigWith, loadDotEnv } from '../../config/app-config.js';
import { createLogger, PinoLoggerService } from '../logging/logger.js';
import { BlobSweepService } from './blob-sweep.service.js';

/**
 * `npm run blobs:sweep`: remove now the blobs no row references and the leftovers of interrupted
 * writes that are older than BLOB_SWEEP_GRACE_MS; prints what was removed as one JSON line.
 */
async function main(): Promise<void> {
  loadDotEnv();
  // This run is the sweep: no background one beside it.
  const config = loadConfigWith({ BLOB_SWEEP_INTERVAL_MS: '0' });
  // An HTTP application that never listens, not an application context: some modules (the chat
  // WebSocket) attach to the HTTP server at bootstrap and fail without one.
  const app = await NestFactory.create(AppModule.forRoot(config), {
    logger: new PinoLoggerService(createLogger({ logLevel: 'warn' })),
    abortOnError: false,
  });
  try {
    await app.init();
    const report = await app.get(BlobSweepService).sweep();
    process.stdout.write(
      report ? `${JSON.stringify(report)}\n` : 'another instance is sweeping now; nothing done\n',
    );
  } finally {
    await app.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
