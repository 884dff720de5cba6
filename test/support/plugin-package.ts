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

/**
 * One entry of a hand-built archive (buildRawZip): every field a hostile writer could bend, each
 * defaulting to what a well-behaved writer puts there.
 */
export interface RawZipEntry {
  /** The name in the central directory (UTF-8 bytes, or exactly these bytes). */
  name: string | Buffer;
  content: string | Buffer;
  /** The name in the local header; the central one by default. */
  localName?: string | Buffer;
  /** 0 stored, 8 deflated (default). */
  method?: number;
  /** General-purpose flags; default UTF-8 names (0x0800). */
  flags?: number;
  /** Unix mode (high 16 bits of the external attributes); default 0o100644. */
  mode?: number;
  /** "Version made by": host << 8 | version; default Unix (3 << 8 | 20). */
  madeBy?: number;
  /** The whole external attributes field, instead of the one made from `mode`. */
  externalAttributes?: number;
  /** Extra fields (as built by extraField) in the central header / the local header. */
  centralExtra?: Buffer;
  localExtra?: Buffer;
  /** Sizes and CRC after the data in a data descriptor (with its signature), zero in the local header. */
  dataDescriptor?: boolean;
  /** Sizes (and, with zip64Offset, the offset) at 0xFFFFFFFF in both headers and given in zip64 fields. */
  zip64?: boolean;
  /** With zip64: the uncompressed size the central zip64 field states, instead of the true one. */
  zip64CentralUncompressedSize?: number;
  /** Bytes written right after this entry's data (and descriptor), listed nowhere. */
  after?: Buffer;
  /** Bytes appended to the compressed data (counted in the compressed size) after the deflate stream ends. */
  trailingData?: Buffer;
}

export interface RawZipOptions {
  /** Bytes before the first local header. */
  prefix?: Buffer;
  /** With a prefix: offsets count from the prefix's end (as if it were absent) rather than from byte 0. */
  offsetsIgnorePrefix?: boolean;
  /** Entry counts the end record states (both of them); the true count (or 0xFFFF with zip64End) by default. */
  endEntryCount?: number;
  /** A zip64 end record and locator, the end record's fields then at their maximum. */
  zip64End?: boolean;
  /** With zip64End: the count the zip64 end record states. */
  zip64EndEntryCount?: number;
  /** The archive comment. */
  comment?: Buffer;
}

const DATA_DESCRIPTOR_SIGNATURE = 0x08074b50;
const ZIP64_END_SIGNATURE = 0x06064b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const U32_MAX = 0xffffffff;

function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16LE(value);
  return buffer;
}

function u64(value: number): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64LE(BigInt(value));
  return buffer;
}

/** An extra field: id, length, data. */
export function extraField(id: number, data: Buffer): Buffer {
  return Buffer.concat([u16(id), u16(data.length), data]);
}

/** An Info-ZIP Unicode Path field (0x7075) for the raw name `raw` saying the entry is named `alias`. */
export function unicodePathField(raw: string | Buffer, alias: string): Buffer {
  const rawBytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  return extraField(
    0x7075,
    Buffer.concat([Buffer.from([1]), u32(crc32(rawBytes)), Buffer.from(alias, 'utf8')]),
  );
}

const asBytes = (value: string | Buffer) => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value);

/**
 * A zip archive written field by field, so that a test can build each way two unzippers could read
 * one archive differently (see RawZipEntry and RawZipOptions). With no options it is the archive
 * buildPluginZip writes (deflated, UTF-8 names, Unix modes).
 */
export function buildRawZip(entries: RawZipEntry[], options: RawZipOptions = {}): Buffer {
  const prefix = options.prefix ?? Buffer.alloc(0);
  const base = options.offsetsIgnorePrefix ? 0 : prefix.length;
  const parts: Buffer[] = [prefix];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const content = asBytes(entry.content);
    const method = entry.method ?? DEFLATED;
    const data = Buffer.concat([
      method === DEFLATED ? deflateRawSync(content) : content,
      entry.trailingData ?? Buffer.alloc(0),
    ]);
    const flags = (entry.flags ?? UTF8_NAMES) | (entry.dataDescriptor ? 0x0008 : 0);
    const crc = crc32(content);
    const centralName = asBytes(entry.name);
    const localName = asBytes(entry.localName ?? entry.name);
    const sized = (size: number) => (entry.zip64 ? U32_MAX : size);
    const localSizes =
      entry.dataDescriptor && !entry.zip64 ? [0, 0, 0] : [crc, sized(data.length), sized(content.length)];
    if (entry.dataDescriptor && entry.zip64) localSizes[0] = 0;
    const localZip64 = entry.zip64
      ? extraField(
          0x0001,
          Buffer.concat([
            u64(entry.dataDescriptor ? 0 : content.length),
            u64(entry.dataDescriptor ? 0 : data.length),
          ]),
        )
      : Buffer.alloc(0);
    const localExtra = Buffer.concat([localZip64, entry.localExtra ?? Buffer.alloc(0)]);
    const local = Buffer.concat([
      u32(LOCAL_HEADER),
      u16(20),
      u16(flags),
      u16(method),
      u16(0),
      u16(DOS_DATE_1980_01_01),
      u32(localSizes[0]),
      u32(localSizes[1]),
      u32(localSizes[2]),
      u16(localName.length),
      u16(localExtra.length),
      localName,
      localExtra,
    ]);
    const descriptor = entry.dataDescriptor
      ? Buffer.concat([
          u32(DATA_DESCRIPTOR_SIGNATURE),
          u32(crc),
          ...(entry.zip64
            ? [u64(data.length), u64(content.length)]
            : [u32(data.length), u32(content.length)]),
        ])
      : Buffer.alloc(0);
    const centralZip64 = entry.zip64
      ? extraField(
          0x0001,
          Buffer.concat([u64(entry.zip64CentralUncompressedSize ?? content.length), u64(data.length)]),
        )
      : Buffer.alloc(0);
    const centralExtra = Buffer.concat([centralZip64, entry.centralExtra ?? Buffer.alloc(0)]);
    const external = entry.externalAttributes ?? ((entry.mode ?? 0o100644) << 16) >>> 0;
    centrals.push(
      Buffer.concat([
        u32(CENTRAL_HEADER),
        u16(entry.madeBy ?? (3 << 8) | 20),
        u16(20),
        u16(flags),
        u16(method),
        u16(0),
        u16(DOS_DATE_1980_01_01),
        u32(crc),
        u32(sized(data.length)),
        u32(sized(content.length)),
        u16(centralName.length),
        u16(centralExtra.length),
        u16(0),
        u16(0),
        u16(0),
        u32(external),
        u32(base + offset),
        centralName,
        centralExtra,
      ]),
    );
    const after = entry.after ?? Buffer.alloc(0);
    parts.push(local, data, descriptor, after);
    offset += local.length + data.length + descriptor.length + after.length;
  }
  const directory = Buffer.concat(centrals);
  const directoryOffset = base + offset;
  const tail: Buffer[] = [];
  if (options.zip64End) {
    const zip64Count = options.zip64EndEntryCount ?? entries.length;
    const zip64EndAt = prefix.length + offset + directory.length;
    tail.push(
      u32(ZIP64_END_SIGNATURE),
      u64(44),
      u16((3 << 8) | 45),
      u16(45),
      u32(0),
      u32(0),
      u64(zip64Count),
      u64(zip64Count),
      u64(directory.length),
      u64(directoryOffset),
      u32(ZIP64_LOCATOR_SIGNATURE),
      u32(0),
      u64(zip64EndAt),
      u32(1),
    );
  }
  const comment = options.comment ?? Buffer.alloc(0);
  const small = (value: number, max: number) => (options.zip64End ? max : value);
  const count = options.endEntryCount ?? small(entries.length, 0xffff);
  tail.push(
    u32(END_OF_CENTRAL_DIRECTORY),
    u16(0),
    u16(0),
    u16(count),
    u16(count),
    u32(small(directory.length, U32_MAX)),
    u32(small(directoryOffset, U32_MAX)),
    u16(comment.length),
    comment,
  );
  return Buffer.concat([...parts, directory, ...tail]);
}
