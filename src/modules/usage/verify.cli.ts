import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../../app.module.js';
import { createLogger, PinoLoggerService } from '../../common/logging/logger.js';
import { loadConfig, loadDotEnv } from '../../config/app-config.js';
import { utcDay } from './pricing.js';
import { UsageService } from './usage.service.js';

/**
 * `npm run usage:verify [-- YYYY-MM-DD]`: recomputes a day's totals (today by
 * default) from the per-call ledger and compares them with the kept totals.
 * Exits 1 and lists the differences when they disagree.
 */
async function main(): Promise<number> {
  loadDotEnv();
  const day = process.argv[2] ?? utcDay();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error('usage: usage:verify [YYYY-MM-DD]');
  const config = loadConfig();
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), {
    logger: new PinoLoggerService(createLogger({ logLevel: 'warn' })),
    abortOnError: false,
  });
  try {
    const mismatches = await app.get(UsageService).verify(day);
    for (const mismatch of mismatches) {
      process.stdout.write(
        `${day} user ${mismatch.userId}: ${mismatch.field} totals ${mismatch.totals} ≠ ledger ${mismatch.ledger}\n`,
      );
    }
    process.stdout.write(
      mismatches.length
        ? `${mismatches.length} differences on ${day}\n`
        : `${day}: totals match the ledger\n`,
    );
    return mismatches.length ? 1 : 0;
  } finally {
    await app.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
