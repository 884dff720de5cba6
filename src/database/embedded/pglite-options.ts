import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

export { PGlite };

/**
 * PGlite's own start parameters, with the buffer cache's size. A module of its own, so the app's
 * main thread loads PGlite only when it runs the engine itself (thread `main`): with the engine on
 * a worker, or against a PostgreSQL server, the main thread never holds PGlite's code.
 */
export function pgliteOptions(
  dataDir: string,
  sharedBuffersMb: number,
): PGliteOptions<{ vector: typeof vector }> {
  return {
    dataDir,
    extensions: { vector },
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffersMb}MB`],
  };
}
