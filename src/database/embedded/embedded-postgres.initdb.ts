import { PGlite } from '@electric-sql/pglite';
import { pgliteOptions } from './pglite-options.js';

/**
 * `node embedded-postgres.initdb.js <dataDir> <sharedBuffersMb>`: creates a fresh data dir's files
 * (initdb) and exits. A process of its own rather than a worker thread: memory a thread used
 * (the engine's, ~60 MiB of it in the C allocator's arenas) was not given back to the system when
 * the thread exited, so a server's first start held that much more than every later one.
 */
const [dataDir, sharedBuffersMb] = process.argv.slice(2);
const db = await PGlite.create(pgliteOptions(dataDir, Number(sharedBuffersMb)));
await db.close();
