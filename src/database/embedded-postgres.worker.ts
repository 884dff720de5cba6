import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PgliteWireServer } from './pglite-wire-server.js';

/**
 * Runs PGlite and its socket server on a worker thread, so the database's
 * WASM engine uses another core instead of the app's event loop. Messages:
 * in `stop`; out `{ ready: WireAddress }`, `{ error }`, `{ stopped: true }`.
 */
const { dataDir, maxConnections } = workerData as { dataDir: string; maxConnections: number };

async function main(): Promise<void> {
  const db = await PGlite.create({ dataDir, extensions: { vector } });
  const server = new PgliteWireServer(db, maxConnections);
  const address = await server.start();
  parentPort!.on('message', (msg: unknown) => {
    if (msg !== 'stop') return;
    void (async () => {
      await server.stop();
      if (!db.closed) await db.close();
      parentPort!.postMessage({ stopped: true });
    })();
  });
  parentPort!.postMessage({ ready: address });
}

main().catch((err: unknown) => parentPort!.postMessage({ error: (err as Error).message ?? String(err) }));
