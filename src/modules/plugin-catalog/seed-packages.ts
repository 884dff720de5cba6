import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { PluginManifest } from '../../common/plugins/plugin-manifest.js';

export interface SeedPackage {
  pluginId: string;
  version: string;
  blobKey: string;
  files: Record<string, string>;
}

/** Fixed DOS time and date (2026-01-01 00:00) so a seed's bytes, and so its SHA-256, never change. */
const DOS_TIME = 0;
const DOS_DATE = ((2026 - 1980) << 9) | (1 << 5) | 1;

function localHeader(name: Buffer, body: Buffer, crc: number): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(DOS_TIME, 10);
  header.writeUInt16LE(DOS_DATE, 12);
  header.writeUInt32LE(crc, 14);
  header.writeUInt32LE(body.length, 18);
  header.writeUInt32LE(body.length, 22);
  header.writeUInt16LE(name.length, 26);
  return Buffer.concat([header, name, body]);
}

function centralHeader(name: Buffer, body: Buffer, crc: number, offset: number): Buffer {
  const header = Buffer.alloc(46);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(20, 6);
  header.writeUInt16LE(DOS_TIME, 12);
  header.writeUInt16LE(DOS_DATE, 14);
  header.writeUInt32LE(crc, 16);
  header.writeUInt32LE(body.length, 20);
  header.writeUInt32LE(body.length, 24);
  header.writeUInt16LE(name.length, 28);
  header.writeUInt32LE(offset, 42);
  return Buffer.concat([header, name]);
}

/** A zip archive of `files` with stored (uncompressed) entries: enough for the small seed packages. */
export function storedZip(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [path, text] of Object.entries(files)) {
    const name = Buffer.from(path, 'utf8');
    const body = Buffer.from(text, 'utf8');
    const crc = crc32(body);
    centrals.push(centralHeader(name, body, crc, offset));
    const local = localHeader(name, body, crc);
    locals.push(local);
    offset += local.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length, 8);
  end.writeUInt16LE(centrals.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

export const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A seed's manifest: the same schema every submission is checked against. */
export type SeedManifest = PluginManifest;

const seed = (
  manifest: Omit<SeedManifest, 'version' | 'author'>,
): SeedPackage & { manifest: SeedManifest } => {
  const full: SeedManifest = { ...manifest, version: '1.0.0', author: 'Marketplace' };
  return {
    pluginId: manifest.id,
    version: full.version,
    blobKey: `plugins/${manifest.id}/${full.version}.zip`,
    manifest: full,
    files: {
      'manifest.json': `${JSON.stringify(full, null, 2)}\n`,
      'index.js': `// ${manifest.description}\nexport function activate(context) {\n  context.log('${manifest.id} active');\n}\n`,
      'README.md': `# ${manifest.name}\n\n${manifest.description}\n`,
    },
  };
};

/**
 * The seed plugins' packages. Their rows (with the SHA-256 of these exact
 * bytes) come from the Marketplace migration; the bytes are put in the blob
 * store at start when missing, since a migration cannot reach the store.
 */
export const SEED_PACKAGES = [
  seed({
    id: 'github-sync',
    name: 'GitHub Sync',
    description: 'Sync GitHub issues and pull requests into your tasks and projects.',
    permissions: ['read:tasks', 'write:tasks', 'read:projects'],
    category: 'Productivity',
    price_cents: 0,
  }),
  seed({
    id: 'slack-notifier',
    name: 'Slack Notifier',
    description: 'Send reminders, checkpoints and daily summaries to a Slack channel.',
    permissions: ['read:tasks', 'read:checkpoints', 'read:calendar'],
    category: 'Communication',
    price_cents: 499,
  }),
  seed({
    id: 'time-tracker',
    name: 'Time Tracker',
    description: 'Track the time spent on tasks and projects, with weekly reports.',
    permissions: ['read:tasks', 'write:tasks', 'read:projects'],
    category: 'Productivity',
    price_cents: 999,
  }),
];
