import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(import.meta.url);
const WORKER = 'check-worker.js';
/** The one source outside this folder the worker imports (see types.ts). */
const SHARED_VOCABULARY = '../../../common/plugins/plugin-manifest.ts';

/**
 * The compiled worker script. Built (dist/), it is beside this file. Run from the TypeScript sources
 * (ts-jest) there is no .js beside the .ts and a worker thread cannot run TypeScript: the worker is
 * then the one `npm run build` put in dist/ (so the e2e suites run the real worker path, on the
 * compiled checks), and it must be there and newer than every source of this folder — never a silent
 * fallback to running the checks on the event loop.
 */
export function checkWorkerFileOrThrow(): string {
  const folder = dirname(HERE);
  if (!HERE.endsWith('.ts')) {
    const beside = join(folder, WORKER);
    if (!existsSync(beside)) throw new Error(`The checks worker ${beside} is missing from the build`);
    return beside;
  }
  const root = projectRootOf(folder);
  const built = join(root, 'dist', relative(root, folder));
  if (!existsSync(join(built, WORKER))) {
    throw new Error(`The checks worker is not built (${join(built, WORKER)} is missing): run npm run build`);
  }
  const stale = staleSources(folder, built);
  if (stale.length > 0) {
    throw new Error(`The built checks worker is older than ${stale.join(', ')}: run npm run build`);
  }
  return join(built, WORKER);
}

function projectRootOf(folder: string): string {
  for (let dir = folder; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`No package.json above ${folder}`);
}

/**
 * The worker's sources newer than their build: this folder's, and the manifest vocabulary it shares
 * with the catalog (the worker imports nothing else but packages).
 */
function staleSources(folder: string, built: string): string[] {
  const own = readdirSync(folder)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'))
    .map((name) => [join(folder, name), join(built, name.replace(/\.ts$/, '.js'))]);
  const shared = join(folder, SHARED_VOCABULARY);
  const sources = [...own, [shared, join(built, SHARED_VOCABULARY.replace(/\.ts$/, '.js'))]];
  return sources
    .filter(
      ([source, compiled]) => !existsSync(compiled) || statSync(source).mtimeMs > statSync(compiled).mtimeMs,
    )
    .map(([source]) => relative(folder, source));
}
