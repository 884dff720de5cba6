import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { pgliteOptions } from './pglite-options.js';
import { PgliteWireServer, type WireServerOptions } from './pglite-wire-server.js';
import { PortLink } from './port-link.js';

/**
 * Runs PGlite and its socket server on a worker thread, so the database's
 * WASM engine uses another core instead of the app's event loop. The app's
 * own connections come over `link` (a PortLink); anything else connects to the
 * socket (a fresh data dir is initialised first by embedded-postgres.initdb.ts, in a process of
 * its own). Messages: in `stop`; out `{ ready: WireAddress }`, `{ error }`,
 * `{ stopped: true }`.
 */
const { dataDir, sharedBuffersMb, maxConnections, serverOptions, link } = workerData as {
  dataDir: string;
  sharedBuffersMb: number;
  maxConnections: number;
  serverOptions: WireServerOptions;
  link: MessagePort;
};

async function main(): Promise<void> {
  const db = await PGlite.create(pgliteOptions(dataDir, sharedBuffersMb));
  const server = new PgliteWireServer(db, maxConnections, serverOptions);
  const address = await server.start();
  const connections = new PortLink(link, (socket) => server.serve(socket));
  parentPort!.on('message', (msg: unknown) => {
    if (msg !== 'stop') return;
    void (async () => {
      await server.stop();
      connections.close();
      if (!db.closed) await db.close();
      parentPort!.postMessage({ stopped: true });
    })();
  });
  parentPort!.postMessage({ ready: address });
}

main().catch((err: unknown) => parentPort!.postMessage({ error: (err as Error).message ?? String(err) }));
