import 'reflect-metadata';
import { StorageService } from '../modules/storage/index.js';
import { cliConfig, print, runCli, withApp } from './bootstrap.js';

/** `npm run storage:purge`: remove tombstones and conflict copies older than 30 days, now. */
runCli(() =>
  withApp(cliConfig(), async (app) => {
    const purged = await app.get(StorageService).purge();
    print(`purged ${purged.records} tombstones and ${purged.conflicts} conflict copies`);
    return 0;
  }),
);
