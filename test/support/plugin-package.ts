import { createHash } from 'node:crypto';
import { crc32, deflateRawSync } from 'node:zlib';

/**
 * Plugin packages for tests: a small synchronous zip writer (deflate, UTF-8 names, Unix modes) and
 * byte-level edits that make the archives no well-behaved zip tool would write (`../x` entries,
 * lying sizes). Written here rather than with a zip library so that the reader under test (yauzl)
 * is checked against an independent writer.
 */

export interface PackageEntry {
  name: string;
  content: string | Buffer;
  /** Unix mode; 0o120777 makes a symbolic link (its content is the target). Default 0o100644. */
  mode?: number;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const UTF8_NAMES = 0x0800;
const DEFLATED = 8;
const DOS_DATE_1980_01_01 = 0x21;

function headers(entry: PackageEntry, offset: number): { local: Buffer; central: Buffer; data: Buffer } {
  const name = Buffer.from(entry.name, 'utf8');
  const content = Buffer.isBuffer(entry.content) ? entry.content : Buffer.from(entry.content, 'utf8');
  const data = deflateRawSync(content);
  // The fields shared by both headers, from "version needed" to "extra field length".
  const common = Buffer.alloc(26);
  common.writeUInt16LE(20, 0);
  common.writeUInt16LE(UTF8_NAMES, 2);
  common.writeUInt16LE(DEFLATED, 4);
  common.writeUInt16LE(0, 6);
  common.writeUInt16LE(DOS_DATE_1980_01_01, 8);
  common.writeUInt32LE(crc32(content), 10);
  common.writeUInt32LE(data.length, 14);
  common.writeUInt32LE(content.length, 18);
  common.writeUInt16LE(name.length, 22);
  const local = Buffer.concat([u32(LOCAL_HEADER), common, name]);
  // Comment length, disk number, internal attributes (all 0), external attributes, local header offset.
  const tail = Buffer.alloc(14);
  tail.writeUInt32LE(((entry.mode ?? 0o100644) << 16) >>> 0, 6);
  tail.writeUInt32LE(offset, 10);
  const madeByUnix = Buffer.alloc(2);
  madeByUnix.writeUInt16LE((3 << 8) | 20);
  const central = Buffer.concat([u32(CENTRAL_HEADER), madeByUnix, common, tail, name]);
  return { local, central, data };
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}

/** A zip archive of the given files, in order. */
export function buildPluginZip(files: PackageEntry[]): Buffer {
  const parts: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const { local, central, data } = headers(file, offset);
    parts.push(local, data);
    centrals.push(central);
    offset += local.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}

/** Calls `edit` with the offsets of the central and local headers of the entry named `name`. */
function editEntry(
  zip: Buffer,
  name: string,
  edit: (copy: Buffer, central: number, local: number) => void,
): Buffer {
  const copy = Buffer.from(zip);
  const end = copy.lastIndexOf(u32(END_OF_CENTRAL_DIRECTORY));
  let at = copy.readUInt32LE(end + 16);
  for (let index = 0; index < copy.readUInt16LE(end + 10); index++) {
    const nameLength = copy.readUInt16LE(at + 28);
    const next = at + 46 + nameLength + copy.readUInt16LE(at + 30) + copy.readUInt16LE(at + 32);
    if (copy.toString('utf8', at + 46, at + 46 + nameLength) === name) {
      edit(copy, at, copy.readUInt32LE(at + 42));
      return copy;
    }
    at = next;
  }
  throw new Error(`no entry named ${name}`);
}

/** Renames an entry in place (same byte length), in both headers: how a test gets a `../x` entry. */
export function renameEntry(zip: Buffer, from: string, to: string): Buffer {
  const name = Buffer.from(to, 'utf8');
  if (name.length !== Buffer.byteLength(from, 'utf8'))
    throw new Error('renameEntry needs names of equal length');
  return editEntry(zip, from, (copy, central, local) => {
    name.copy(copy, central + 46);
    name.copy(copy, local + 30);
  });
}

/** Makes the entry declare another unpacked size (a zip bomb's lie, or its honest huge size). */
export function setDeclaredSize(zip: Buffer, entry: string, size: number): Buffer {
  return editEntry(zip, entry, (copy, central, local) => {
    copy.writeUInt32LE(size, central + 24);
    copy.writeUInt32LE(size, local + 22);
  });
}

/** A package that passes every check: manifest.json (the manifest), index.js and README.md. */
export function validPluginPackage(manifest: { id: string; version: string; name?: string }): Buffer {
  const title = manifest.name ?? manifest.id;
  return buildPluginZip([
    { name: 'manifest.json', content: JSON.stringify(manifest, null, 2) },
    {
      name: 'index.js',
      content: "export function activate(context) {\n  context.log('activated');\n}\n",
    },
    { name: 'README.md', content: `# ${title}\n\nA plugin for Adiuva.\n` },
  ]);
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A package of code-like text files of about `packedBytes` (each just under the secret scan's 1 MiB
 * bound), whose lines vary (a seeded generator) so that they compress about as little as real code:
 * 10 MiB packed is about 35 MiB scanned, seconds of CPU for the checks.
 */
export function codeLikePackage(
  manifest: { id: string; version: string },
  packedBytes: number,
): { bytes: Buffer; files: number } {
  let seed = 1;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  const words = ['task', 'note', 'sync', 'calendar', 'render', 'value', 'count', 'index', 'item', 'state'];
  const line = () =>
    `export const ${words[next() % 10]}${next() % 1000} = ${words[next() % 10]}(${next() % 99991}, '${words[next() % 10]}-${(next() % 4096).toString(16)}'); // ${words[next() % 10]} ${next() % 777}`;
  const files: PackageEntry[] = [{ name: 'manifest.json', content: JSON.stringify(manifest) }];
  let packed = 0;
  for (let index = 0; packed < packedBytes; index++) {
    const lines: string[] = [];
    for (let size = 0; size < 1000 * 1024; size += lines[lines.length - 1].length + 1) lines.push(line());
    const file = { name: `src/module-${index}.js`, content: lines.join('\n') };
    files.push(file);
    packed += buildPluginZip([file]).length;
  }
  return { bytes: buildPluginZip(files), files: files.length };
}

/** A valid manifest the checks' specs share. */
export const sampleManifest = {
  id: 'focus-timer',
  name: 'Focus Timer',
  description: 'Pomodoro sessions for your tasks.',
  version: '1.0.0',
  author: 'Ada',
  permissions: ['read:tasks'],
  category: 'Productivity',
  price_cents: 0,
};
