import 'reflect-metadata';
import { UsageService, utcDay } from '../modules/usage/index.js';
import { cliConfig, print, runCli, withApp } from './bootstrap.js';

/**
 * `npm run usage:verify [-- YYYY-MM-DD]`: recomputes a day's totals (today by
 * default) from the per-call ledger and compares them with the kept totals.
 * Exits 1 and lists the differences when they disagree.
 */
runCli(async ([day = utcDay(), ...rest]) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || rest.length > 0) {
    process.stderr.write('usage: npm run usage:verify [-- YYYY-MM-DD]\n');
    return 2;
  }
  return withApp(cliConfig(), async (app) => {
    const mismatches = await app.get(UsageService).verify(day);
    for (const mismatch of mismatches) {
      print(
        `${day} user ${mismatch.userId}: ${mismatch.field} totals ${mismatch.totals} ≠ ledger ${mismatch.ledger}`,
      );
    }
    print(
      mismatches.length ? `${mismatches.length} differences on ${day}` : `${day}: totals match the ledger`,
    );
    return mismatches.length ? 1 : 0;
  });
});
