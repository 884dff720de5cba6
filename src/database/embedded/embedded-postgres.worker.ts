import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { pgliteOptions } from './embedded-postgres.js';
import { PgliteWireServer, type WireServerOptions } from './pglite-wire-server.js';
import { PortLink } from './port-link.js';

/**
 * Runs PGlite and its socket server on a worker thread, so the database's
 * WASM engine uses another core instead of the app's event loop. The app's
 * own connections come over `link` (a PortLink); anything else connects to the
 * socket (task `serve`; task `initialise` only creates a fresh data dir and says
 * `{ initialised: true }`). Messages: in `stop`; out `{ ready: WireAddress }`, `{ error }`,
 * `{ stopped: true }`.
 */
const { task, dataDir, sharedBuffersMb, maxConnections, serverOptions, link } = workerData as {
  /** initialise: create the data dir's files (initdb), then say `{ initialised: true }`. */
  task: 'initialise' | 'serve';
  dataDir: string;
  sharedBuffersMb: number;
  maxConnections: number;
  serverOptions: WireServerOptions;
  link: MessagePort;
};

async function main(): Promise<void> {
  const db = await PGlite.create(pgliteOptions(dataDir, sharedBuffersMb));
  if (task === 'initialise') {
    await db.close();
    parentPort!.postMessage({ initialised: true });
    return;
  }
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
