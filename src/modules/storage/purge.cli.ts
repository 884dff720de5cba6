import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../../app.module.js';
import { createLogger, PinoLoggerService } from '../../common/logging/logger.js';
import { loadConfig, loadDotEnv } from '../../config/app-config.js';
import { StorageService } from './storage.service.js';

/** `npm run storage:purge`: remove tombstones and conflict copies older than 30 days, now. */
async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), {
    logger: new PinoLoggerService(createLogger({ logLevel: 'warn' })),
    abortOnError: false,
  });
  try {
    const purged = await app.get(StorageService).purge();
    process.stdout.write(`purged ${purged.records} tombstones and ${purged.conflicts} conflict copies\n`);
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
