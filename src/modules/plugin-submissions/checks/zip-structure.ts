import { crc32, inflateRawSync } from 'node:zlib';
import type { CheckResult, PackageLimits } from './types.js';

/**
 * A strict reader of a zip archive's structure: the end record, the central directory and every
 * local header, read the way the strictest unzipper reads them. Unzippers disagree about archives
 * that bend the format — one trusts the central directory, a streaming one the local headers; one
 * honours an Info-ZIP Unicode Path field, another the raw name; one counts entries as the end record
 * says, another walks the whole directory; one skips bytes prepended to the archive. Whatever two
 * of them could read differently is refused here, so the files we check are the files every
 * installer unpacks.
 */

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END_OF_CENTRAL_DIRECTORY = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const DATA_DESCRIPTOR = 0x08074b50;

const LOCAL_HEADER_SIZE = 30;
const CENTRAL_HEADER_SIZE = 46;
const END_SIZE = 22;
const ZIP64_END_SIZE = 56;
const ZIP64_LOCATOR_SIZE = 20;
const MAX_COMMENT = 0xffff;

const ZIP64_EXTRA = 0x0001;
const UNICODE_PATH_EXTRA = 0x7075;

const FLAG_ENCRYPTED = 0x0001;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_STRONG_ENCRYPTION = 0x0040;
const FLAG_UTF8 = 0x0800;
const FLAG_MASKED_HEADERS = 0x2000;
/** The flag bits that change how an entry is read: they must be the same in both headers. */
const SIGNIFICANT_FLAGS =
  FLAG_ENCRYPTED | FLAG_DATA_DESCRIPTOR | FLAG_STRONG_ENCRYPTION | FLAG_UTF8 | FLAG_MASKED_HEADERS;

export const STORED = 0;
export const DEFLATED = 8;

const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

/** Hosts ("version made by", high byte) whose external attributes carry a Unix mode in their high 16 bits. */
const UNIX_HOSTS = new Set([3, 19]);
/** Hosts whose external attributes are MS-DOS/Windows attributes. */
const DOS_HOSTS = new Set([0, 10, 11, 14]);
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const DOS_DIRECTORY = 0x10;
/** A Windows reparse point: a symbolic link or a junction once extracted by tools that honour it. */
const DOS_REPARSE_POINT = 0x400;

/** One entry as both of its headers agree it is. */
export interface ZipEntryRecord {
  /** Its place in the central directory. */
  index: number;
  name: string;
  flags: number;
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
  /** Where its compressed bytes start and end (end excluded). */
  dataStart: number;
  dataEnd: number;
  directory: boolean;
  /** Problems of this entry alone; an entry with any is never unpacked. */
  problems: CheckResult[];
}

export interface ZipStructure {
  entries: ZipEntryRecord[];
  /**
   * Problems of the archive as a whole (its end record, its layout): with any, nobody can say which
   * files it holds, so nothing of it is unpacked or scanned.
   */
  archiveProblems: CheckResult[];
}

/** A problem found while reading: the archive is not a zip that can be examined at all. */
class Malformed extends Error {}

/** Why an entry cannot be unpacked, with the check code it is reported under. */
export class UnpackError extends Error {
  constructor(
    readonly code: 'package_not_zip' | 'package_unexpected_bytes',
    message: string,
  ) {
    super(message);
    this.name = 'UnpackError';
  }
}

function failed(code: string, message: string, file?: string): CheckResult {
  return { check: 'package', status: 'failed', code, message, ...(file === undefined ? {} : { file }) };
}

export function quoteName(name: string): string {
  const shown = JSON.stringify(name);
  return shown.length > 130 ? `${shown.slice(0, 127)}…"` : shown;
}

interface EndRecord {
  /** Where the end record starts. */
  at: number;
  entries: number;
  directorySize: number;
  directoryOffset: number;
  /** Where the central directory must end: the zip64 end record, or the end record. */
  directoryEnd: number;
}

/**
 * Reads the archive's structure. Answers undefined when it cannot be examined (pushing why to `sink`:
 * `package_not_zip` when it is not a zip or its entries cannot be located, `package_too_many_files`);
 * else the entries and the problems found.
 */
export function readZipStructure(
  bytes: Buffer,
  limits: PackageLimits,
  sink: CheckResult[],
): ZipStructure | undefined {
  const archiveProblems: CheckResult[] = [];
  try {
    const end = readEnd(bytes, archiveProblems);
    const misplaced = misplacedDirectory(end);
    if (misplaced) {
      archiveProblems.push(misplaced);
      return { entries: [], archiveProblems };
    }
    const headers = centralHeaders(bytes, end);
    if (headers.length !== end.entries) {
      archiveProblems.push(
        failed(
          'package_entry_count_mismatch',
          `the end record counts ${end.entries} entries; the central directory holds ${headers.length}`,
        ),
      );
    }
    const count = Math.max(headers.length, end.entries);
    if (count > limits.maxFiles) {
      sink.push(
        failed('package_too_many_files', `the package has ${count} entries; at most ${limits.maxFiles}`),
      );
      return undefined;
    }
    const entries = headers.map((at, index) => readEntry(bytes, at, index));
    checkLayout(entries, end, archiveProblems);
    return { entries, archiveProblems };
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
    sink.push(failed('package_not_zip', `the package is not a well-formed zip archive: ${error.message}`));
    return undefined;
  }
}

/**
 * The directory ends where the end records start. If not, bytes were added before the archive
 * (or inside it): some readers shift every offset by them, others read what the offsets say.
 */
function misplacedDirectory(end: EndRecord): CheckResult | undefined {
  if (end.directoryOffset + end.directorySize === end.directoryEnd) return undefined;
  const extra = end.directoryEnd - end.directoryOffset - end.directorySize;
  const message =
    extra > 0
      ? `${extra} unlisted bytes before the central directory or the archive`
      : 'the central directory runs past the end record';
  return failed('package_unexpected_bytes', message);
}

/** The end record's own fields, before a zip64 end record may stand in for them. */
interface EndFields {
  disk: number;
  directoryDisk: number;
  entriesOnDisk: number;
  entries: number;
  directorySize: number;
  directoryOffset: number;
}

interface Zip64End {
  at: number;
  entriesOnDisk: number;
  entries: number;
  directorySize: number;
  directoryOffset: number;
}

/** The end record, and the zip64 end record when a locator precedes it (then its counts and offsets rule). */
function readEnd(bytes: Buffer, problems: CheckResult[]): EndRecord {
  const at = findEnd(bytes);
  const comment = bytes.subarray(at + END_SIZE);
  // A reader that looks for the last signature, not the one whose comment fits, would stop in the comment.
  if (comment.includes(u32(END_OF_CENTRAL_DIRECTORY)) || comment.includes(u32(ZIP64_LOCATOR))) {
    problems.push(
      failed('package_unexpected_bytes', 'the archive comment holds a zip record signature: readers differ'),
    );
  }
  const fields: EndFields = {
    disk: bytes.readUInt16LE(at + 4),
    directoryDisk: bytes.readUInt16LE(at + 6),
    entriesOnDisk: bytes.readUInt16LE(at + 8),
    entries: bytes.readUInt16LE(at + 10),
    directorySize: bytes.readUInt32LE(at + 12),
    directoryOffset: bytes.readUInt32LE(at + 16),
  };
  const locator = at - ZIP64_LOCATOR_SIZE;
  if (locator >= 0 && bytes.readUInt32LE(locator) === ZIP64_LOCATOR) {
    const zip64 = readZip64End(bytes, locator, problems);
    checkZip64Agrees(fields, zip64, problems);
    const { entries, directorySize, directoryOffset } = zip64;
    return { at, entries, directorySize, directoryOffset, directoryEnd: zip64.at };
  }
  checkPlainEnd(fields, problems);
  const { entries, directorySize, directoryOffset } = fields;
  return { at, entries, directorySize, directoryOffset, directoryEnd: at };
}

/** Where the end record starts, found the one way that leaves no choice: its comment runs exactly to the last byte. */
function findEnd(bytes: Buffer): number {
  const lowest = Math.max(0, bytes.length - END_SIZE - MAX_COMMENT);
  for (let candidate = bytes.length - END_SIZE; candidate >= lowest; candidate--) {
    if (
      bytes.readUInt32LE(candidate) === END_OF_CENTRAL_DIRECTORY &&
      candidate + END_SIZE + bytes.readUInt16LE(candidate + 20) === bytes.length
    ) {
      return candidate;
    }
  }
  throw new Malformed('no end of central directory record');
}

/** Each field of the end record is at its maximum (deferring to the zip64 record) or the same as there. */
function checkZip64Agrees(fields: EndFields, zip64: Zip64End, problems: CheckResult[]): void {
  const agrees = (small: number, max: number, wide: number) => small === max || small === wide;
  if (
    !agrees(fields.entriesOnDisk, U16_MAX, zip64.entriesOnDisk) ||
    !agrees(fields.entries, U16_MAX, zip64.entries) ||
    !agrees(fields.directorySize, U32_MAX, zip64.directorySize) ||
    !agrees(fields.directoryOffset, U32_MAX, zip64.directoryOffset) ||
    !agrees(fields.disk, U16_MAX, 0) ||
    !agrees(fields.directoryDisk, U16_MAX, 0)
  ) {
    problems.push(failed('package_zip64_inconsistent', 'the end record and the zip64 end record disagree'));
  }
  if (zip64.entriesOnDisk !== zip64.entries) {
    problems.push(failed('package_entry_count_mismatch', 'the zip64 end record counts its entries two ways'));
  }
}

/** An end record with no zip64 one: one disk, one count, and no field deferring to a zip64 record. */
function checkPlainEnd(fields: EndFields, problems: CheckResult[]): void {
  const { disk, directoryDisk, entriesOnDisk, entries, directorySize, directoryOffset } = fields;
  if (disk !== 0 || directoryDisk !== 0)
    throw new Malformed('archives split over several disks are not supported');
  if (entriesOnDisk !== entries) {
    problems.push(
      failed(
        'package_entry_count_mismatch',
        `the end record counts ${entriesOnDisk} entries on its disk and ${entries} in all`,
      ),
    );
  }
  if (entries === U16_MAX || directorySize === U32_MAX || directoryOffset === U32_MAX) {
    problems.push(
      failed('package_zip64_inconsistent', 'the end record defers to a zip64 end record that is missing'),
    );
  }
}

function readZip64End(bytes: Buffer, locator: number, problems: CheckResult[]): Zip64End {
  const at = locator - ZIP64_END_SIZE;
  if (bytes.readUInt32LE(locator + 4) !== 0 || bytes.readUInt32LE(locator + 16) !== 1) {
    throw new Malformed('archives split over several disks are not supported');
  }
  // The zip64 end record sits right before its locator (no extensible data): any other place is a choice.
  if (
    at < 0 ||
    readU64(bytes, locator + 8) !== at ||
    bytes.readUInt32LE(at) !== ZIP64_END_OF_CENTRAL_DIRECTORY
  ) {
    problems.push(
      failed(
        'package_zip64_inconsistent',
        'the zip64 locator does not point at the zip64 end record before it',
      ),
    );
    throw new Malformed('the zip64 end record cannot be located');
  }
  if (readU64(bytes, at + 4) !== ZIP64_END_SIZE - 12) {
    problems.push(failed('package_zip64_inconsistent', 'the zip64 end record has an unexpected size'));
  }
  if (bytes.readUInt32LE(at + 16) !== 0 || bytes.readUInt32LE(at + 20) !== 0) {
    throw new Malformed('archives split over several disks are not supported');
  }
  return {
    at,
    entriesOnDisk: readU64(bytes, at + 24),
    entries: readU64(bytes, at + 32),
    directorySize: readU64(bytes, at + 40),
    directoryOffset: readU64(bytes, at + 48),
  };
}

/** Where each central header starts: the whole directory (its declared size), whatever count the end record says. */
function centralHeaders(bytes: Buffer, end: EndRecord): number[] {
  const headers: number[] = [];
  const stop = end.directoryOffset + end.directorySize;
  let at = end.directoryOffset;
  while (at < stop) {
    if (at + CENTRAL_HEADER_SIZE > stop || bytes.readUInt32LE(at) !== CENTRAL_HEADER) {
      throw new Malformed(`no central directory header where entry ${headers.length + 1} should start`);
    }
    const next =
      at +
      CENTRAL_HEADER_SIZE +
      bytes.readUInt16LE(at + 28) +
      bytes.readUInt16LE(at + 30) +
      bytes.readUInt16LE(at + 32);
    if (next > stop)
      throw new Malformed(`central directory entry ${headers.length + 1} runs past the directory`);
    headers.push(at);
    at = next;
  }
  return headers;
}

/** A central directory header's fields (sizes and offset as it says, before its zip64 field). */
interface CentralHeader {
  madeBy: number;
  flags: number;
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
  diskStart: number;
  external: number;
  rawName: Buffer;
  extra: Buffer;
}

/** The entry whose central header starts at `at`, with its problems; its local header compared. */
function readEntry(bytes: Buffer, at: number, index: number): ZipEntryRecord {
  const header = readCentralHeader(bytes, at);
  const problems: CheckResult[] = [];
  const { name, problem: nameProblem } = decodeName(header.rawName, header.flags);
  if (nameProblem) problems.push(failed('package_name_encoding', nameProblem, name));
  readCentralExtra(header, name, problems);
  if (header.diskStart !== 0) throw new Malformed('archives split over several disks are not supported');
  const directory = name.endsWith('/');
  problems.push(...typeProblems(header.madeBy, header.external, name, directory));
  problems.push(...methodProblems(header, name));
  const entry: ZipEntryRecord = {
    index,
    name,
    flags: header.flags,
    method: header.method,
    crc32: header.crc32,
    compressedSize: header.compressedSize,
    uncompressedSize: header.uncompressedSize,
    localOffset: header.localOffset,
    dataStart: 0,
    dataEnd: 0,
    directory,
    problems,
  };
  compareLocalHeader(bytes, entry, header.rawName);
  return entry;
}

function readCentralHeader(bytes: Buffer, at: number): CentralHeader {
  const nameStart = at + CENTRAL_HEADER_SIZE;
  const nameEnd = nameStart + bytes.readUInt16LE(at + 28);
  return {
    madeBy: bytes.readUInt16LE(at + 4),
    flags: bytes.readUInt16LE(at + 8),
    method: bytes.readUInt16LE(at + 10),
    crc32: bytes.readUInt32LE(at + 16),
    compressedSize: bytes.readUInt32LE(at + 20),
    uncompressedSize: bytes.readUInt32LE(at + 24),
    localOffset: bytes.readUInt32LE(at + 42),
    diskStart: bytes.readUInt16LE(at + 34),
    external: bytes.readUInt32LE(at + 38),
    rawName: bytes.subarray(nameStart, nameEnd),
    extra: bytes.subarray(nameEnd, nameEnd + bytes.readUInt16LE(at + 30)),
  };
}

/**
 * The central extra fields must tile their block, name no id twice, hold a zip64 field exactly when
 * the header defers to one (its values then replace the header's) and no Unicode Path field that
 * names the entry otherwise.
 */
function readCentralExtra(header: CentralHeader, name: string, problems: CheckResult[]): void {
  const fields = parseExtra(header.extra);
  if (!fields) {
    problems.push(
      failed('package_bad_extra_field', `the extra fields of ${quoteName(name)} are malformed`, name),
    );
    return;
  }
  if (duplicateIds(fields)) {
    problems.push(failed('package_bad_extra_field', `${quoteName(name)} repeats an extra field`, name));
  }
  const zip64 = fields.find((field) => field.id === ZIP64_EXTRA);
  // The zip64 field holds exactly the values its header leaves at their maximum, in this order.
  const wanted = (['uncompressedSize', 'compressedSize', 'localOffset'] as const).filter(
    (key) => header[key] === U32_MAX,
  );
  if (zip64 && zip64.data.length === wanted.length * 8) {
    wanted.forEach((key, i) => (header[key] = readU64(zip64.data, i * 8)));
  } else if (zip64 || wanted.length > 0) {
    problems.push(
      failed(
        'package_zip64_inconsistent',
        `the zip64 field of ${quoteName(name)} does not match its header`,
        name,
      ),
    );
  }
  problems.push(...unicodePathProblems(fields, header.rawName, name));
}

/** Not encrypted, stored or deflated, and a stored entry's end unambiguous (equal sizes, no data descriptor). */
function methodProblems(header: CentralHeader, name: string): CheckResult[] {
  const { flags, method, compressedSize, uncompressedSize } = header;
  const problems: CheckResult[] = [];
  if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_MASKED_HEADERS) || method === 99) {
    problems.push(failed('package_encrypted', `${quoteName(name)} is encrypted`, name));
  }
  if (method !== STORED && method !== DEFLATED && method !== 99) {
    problems.push(
      failed('package_not_zip', `${quoteName(name)} uses unsupported compression method ${method}`, name),
    );
  }
  if (method === STORED && compressedSize !== uncompressedSize) {
    problems.push(
      failed('package_header_mismatch', `${quoteName(name)} is stored, yet its two sizes differ`, name),
    );
  }
  if (method === STORED && flags & FLAG_DATA_DESCRIPTOR) {
    // Nothing marks where stored bytes end: a streaming reader would have to guess.
    problems.push(
      failed(
        'package_header_mismatch',
        `${quoteName(name)} is stored with a data descriptor: its end is ambiguous`,
        name,
      ),
    );
  }
  return problems;
}

/** The name as every reader decodes it: UTF-8 with the UTF-8 flag, else plain ASCII (CP437 and UTF-8 readers differ past it). */
function decodeName(raw: Buffer, flags: number): { name: string; problem?: string } {
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return { name: raw.toString('latin1'), problem: `an entry name is not valid UTF-8` };
  }
  if (raw.length === 0) return { name, problem: 'an entry has an empty name' };
  if (raw.some((byte) => byte < 0x20 || byte === 0x7f)) {
    return { name, problem: `${quoteName(name)} has a control character in its name` };
  }
  if (!(flags & FLAG_UTF8) && raw.some((byte) => byte > 0x7f)) {
    return {
      name,
      problem: `${quoteName(name)} has a non-ASCII name without the UTF-8 flag: readers decode it differently`,
    };
  }
  return { name };
}

interface ExtraField {
  id: number;
  data: Buffer;
}

/** The extra fields, or undefined when they do not tile the extra block exactly. */
function parseExtra(extra: Buffer): ExtraField[] | undefined {
  const fields: ExtraField[] = [];
  let at = 0;
  while (at < extra.length) {
    if (at + 4 > extra.length) return undefined;
    const id = extra.readUInt16LE(at);
    const size = extra.readUInt16LE(at + 2);
    if (at + 4 + size > extra.length) return undefined;
    fields.push({ id, data: extra.subarray(at + 4, at + 4 + size) });
    at += 4 + size;
  }
  return fields;
}

const duplicateIds = (fields: ExtraField[]) =>
  new Set(fields.map((field) => field.id)).size !== fields.length;

/**
 * An Info-ZIP Unicode Path field names the entry for the readers that honour it (some check its CRC
 * of the raw name, some do not); it is refused unless it says exactly what the raw name says.
 */
function unicodePathProblems(fields: ExtraField[], rawName: Buffer, name: string): CheckResult[] {
  const problems: CheckResult[] = [];
  for (const field of fields.filter((candidate) => candidate.id === UNICODE_PATH_EXTRA)) {
    const alias = field.data.length >= 5 ? field.data.subarray(5).toString('utf8') : undefined;
    const consistent =
      alias === name && field.data.readUInt8(0) === 1 && field.data.readUInt32LE(1) === crc32(rawName);
    if (!consistent) {
      const said = alias === undefined ? 'a malformed name' : quoteName(alias);
      problems.push(
        failed(
          'package_name_extra_field',
          `${quoteName(name)} carries a Unicode Path field naming it ${said}: readers would see two names`,
          name,
        ),
      );
    }
  }
  return problems;
}

/** Regular files and directories only: no symbolic links, devices, pipes or sockets, and a type that matches the name. */
function typeProblems(madeBy: number, external: number, name: string, directory: boolean): CheckResult[] {
  const host = madeBy >>> 8;
  if (UNIX_HOSTS.has(host)) {
    const type = (external >>> 16) & S_IFMT;
    if (type === S_IFLNK) return [failed('package_symlink', `${quoteName(name)} is a symbolic link`, name)];
    if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
      return [
        failed(
          'package_special_file',
          `${quoteName(name)} is a device, pipe or socket (mode ${(external >>> 16).toString(8)})`,
          name,
        ),
      ];
    }
    if ((type === S_IFDIR) !== directory && type !== 0) {
      return [
        failed(
          'package_special_file',
          `${quoteName(name)} is marked as a ${directory ? 'file' : 'directory'} but named as a ${directory ? 'directory' : 'file'}`,
          name,
        ),
      ];
    }
  }
  if (DOS_HOSTS.has(host) || UNIX_HOSTS.has(host)) {
    if (external & DOS_REPARSE_POINT) {
      return [failed('package_symlink', `${quoteName(name)} is a Windows reparse point (a link)`, name)];
    }
    if (external & DOS_DIRECTORY && !directory) {
      return [
        failed(
          'package_special_file',
          `${quoteName(name)} is marked as a directory but named as a file`,
          name,
        ),
      ];
    }
  }
  return [];
}

/**
 * The local header must say what the central directory says: same name byte for byte, same flags,
 * method, CRC and sizes (a data descriptor may carry the last three, and then must agree too).
 * Sets where the entry's data starts and ends (its data descriptor included).
 */
function compareLocalHeader(bytes: Buffer, entry: ZipEntryRecord, centralName: Buffer): void {
  const local = readLocalHeader(bytes, entry);
  const { name } = entry;
  const mismatch = (what: string) =>
    entry.problems.push(failed('package_header_mismatch', `${quoteName(name)}: ${what}`, name));
  if (!local.name.equals(centralName)) {
    const shown = quoteName(local.name.toString('utf8'));
    entry.problems.push(
      failed('package_name_mismatch', `${quoteName(name)} is named ${shown} in its local header`, name),
    );
  }
  if ((local.flags & SIGNIFICANT_FLAGS) !== (entry.flags & SIGNIFICANT_FLAGS))
    mismatch('its two headers have different flags');
  if (local.method !== entry.method) mismatch('its two headers name different compression methods');
  const fields = parseExtra(local.extra);
  if (!fields || duplicateIds(fields)) {
    entry.problems.push(
      failed('package_bad_extra_field', `the local extra fields of ${quoteName(name)} are malformed`, name),
    );
    return;
  }
  entry.problems.push(...unicodePathProblems(fields, local.name, name));
  const zip64 = fields.find((field) => field.id === ZIP64_EXTRA);
  const sizes = localSizes(local, zip64, entry);
  if (!sizes) return;
  compareLocalSums(bytes, entry, { crc32: local.crc32, ...sizes }, zip64 !== undefined, mismatch);
}

/** A local header's fields (its name and extra block as bytes, sizes as it says, before its zip64 field). */
interface LocalHeader {
  flags: number;
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  name: Buffer;
  extra: Buffer;
}

/** The entry's local header; sets where its data starts and ends, which must be inside the archive. */
function readLocalHeader(bytes: Buffer, entry: ZipEntryRecord): LocalHeader {
  const at = entry.localOffset;
  if (at + LOCAL_HEADER_SIZE > bytes.length || bytes.readUInt32LE(at) !== LOCAL_HEADER) {
    throw new Malformed(`no local header where ${quoteName(entry.name)} should start`);
  }
  const nameStart = at + LOCAL_HEADER_SIZE;
  const nameEnd = nameStart + bytes.readUInt16LE(at + 26);
  entry.dataStart = nameEnd + bytes.readUInt16LE(at + 28);
  entry.dataEnd = entry.dataStart + entry.compressedSize;
  if (entry.dataEnd > bytes.length)
    throw new Malformed(`${quoteName(entry.name)} runs past the end of the archive`);
  return {
    flags: bytes.readUInt16LE(at + 6),
    method: bytes.readUInt16LE(at + 8),
    crc32: bytes.readUInt32LE(at + 14),
    compressedSize: bytes.readUInt32LE(at + 18),
    uncompressedSize: bytes.readUInt32LE(at + 22),
    name: bytes.subarray(nameStart, nameEnd),
    extra: bytes.subarray(nameEnd, entry.dataStart),
  };
}

type Sizes = Pick<ZipEntryRecord, 'compressedSize' | 'uncompressedSize'>;

/**
 * The local sizes: from the local zip64 field when there is one (it holds both sizes, nothing else,
 * and the header's are then at their maximum). Undefined, with the problem noted, when they do not fit.
 */
function localSizes(
  local: LocalHeader,
  zip64: ExtraField | undefined,
  entry: ZipEntryRecord,
): Sizes | undefined {
  const { name } = entry;
  if (zip64) {
    if (zip64.data.length !== 16 || local.compressedSize !== U32_MAX || local.uncompressedSize !== U32_MAX) {
      entry.problems.push(
        failed(
          'package_zip64_inconsistent',
          `the local zip64 field of ${quoteName(name)} does not match its header`,
          name,
        ),
      );
      return undefined;
    }
    return { uncompressedSize: readU64(zip64.data, 0), compressedSize: readU64(zip64.data, 8) };
  }
  if (local.compressedSize === U32_MAX || local.uncompressedSize === U32_MAX) {
    entry.problems.push(
      failed(
        'package_zip64_inconsistent',
        `the local header of ${quoteName(name)} defers to a missing zip64 field`,
        name,
      ),
    );
    return undefined;
  }
  return { compressedSize: local.compressedSize, uncompressedSize: local.uncompressedSize };
}

/** The local CRC and sizes say what the central ones say; with a data descriptor they may be 0, and it must agree. */
function compareLocalSums(
  bytes: Buffer,
  entry: ZipEntryRecord,
  local: Pick<ZipEntryRecord, 'crc32' | 'compressedSize' | 'uncompressedSize'>,
  wide: boolean,
  mismatch: (what: string) => void,
): void {
  if (entry.flags & FLAG_DATA_DESCRIPTOR) {
    // Streaming writers leave them 0 here; if they are set, they must be the right ones.
    const zeroOrSame = (key: keyof typeof local) => local[key] === 0 || local[key] === entry[key];
    if (!zeroOrSame('crc32') || !zeroOrSame('compressedSize') || !zeroOrSame('uncompressedSize'))
      mismatch('its local header and central directory disagree on its CRC or sizes');
    readDataDescriptor(bytes, entry, wide, mismatch);
  } else if (
    local.crc32 !== entry.crc32 ||
    local.compressedSize !== entry.compressedSize ||
    local.uncompressedSize !== entry.uncompressedSize
  ) {
    mismatch('its local header and central directory disagree on its CRC or sizes');
  }
}

/** The descriptor after the data (signature optional, sizes 8 bytes wide with zip64): must agree; extends dataEnd past it. */
function readDataDescriptor(
  bytes: Buffer,
  entry: ZipEntryRecord,
  wide: boolean,
  mismatch: (what: string) => void,
): void {
  let at = entry.dataEnd;
  const size = wide ? 20 : 12;
  if (at + 4 <= bytes.length && bytes.readUInt32LE(at) === DATA_DESCRIPTOR) at += 4;
  if (at + size > bytes.length)
    throw new Malformed(`the data descriptor of ${quoteName(entry.name)} is cut short`);
  const crc = bytes.readUInt32LE(at);
  const compressedSize = wide ? readU64(bytes, at + 4) : bytes.readUInt32LE(at + 4);
  const uncompressedSize = wide ? readU64(bytes, at + 12) : bytes.readUInt32LE(at + 8);
  if (
    crc !== entry.crc32 ||
    compressedSize !== entry.compressedSize ||
    uncompressedSize !== entry.uncompressedSize
  ) {
    mismatch('its data descriptor and central directory disagree on its CRC or sizes');
  }
  entry.dataEnd = at + size;
}

/**
 * The entries, in the order of their local headers, must tile the archive: the first at byte 0, each
 * right after the previous one's data (and descriptor), the central directory right after the last,
 * then the end records. Prepended bytes (which some readers skip and others refuse), gaps (where a
 * streaming reader finds headers the directory does not list) and overlaps are refused.
 */
function checkLayout(entries: ZipEntryRecord[], end: EndRecord, problems: CheckResult[]): void {
  const ordered = [...entries].sort((a, b) => a.localOffset - b.localOffset || a.index - b.index);
  let expected = 0;
  for (const entry of ordered) {
    if (entry.localOffset < expected) {
      problems.push(
        failed(
          'package_unexpected_bytes',
          `${quoteName(entry.name)} overlaps the entry before it`,
          entry.name,
        ),
      );
    } else if (entry.localOffset > expected) {
      const where = expected === 0 ? 'before the first entry' : `before ${quoteName(entry.name)}`;
      problems.push(
        failed(
          'package_unexpected_bytes',
          `${entry.localOffset - expected} unlisted bytes ${where}`,
          entry.name,
        ),
      );
    }
    expected = Math.max(expected, entry.dataEnd);
  }
  if (end.directoryOffset !== expected) {
    const message =
      end.directoryOffset > expected
        ? `${end.directoryOffset - expected} unlisted bytes before the central directory`
        : 'the central directory overlaps the entries';
    problems.push(failed('package_unexpected_bytes', message));
  }
}

/**
 * The entry's bytes: inflated (or copied) from exactly its compressed bytes, which the deflate stream
 * must use up to the last (bytes after its end are where a streaming reader finds another file),
 * its declared size and CRC checked. Throws an UnpackError that says what is wrong.
 */
export function unpackEntry(bytes: Buffer, entry: ZipEntryRecord): Buffer {
  const data = bytes.subarray(entry.dataStart, entry.dataStart + entry.compressedSize);
  const content = entry.method === STORED ? Buffer.from(data) : inflateAll(data, entry.uncompressedSize);
  if (content.length !== entry.uncompressedSize) {
    throw new UnpackError(
      'package_not_zip',
      content.length > entry.uncompressedSize
        ? 'more bytes than its declared size'
        : 'fewer bytes than its declared size',
    );
  }
  if (crc32(content) !== entry.crc32) throw new UnpackError('package_not_zip', 'its CRC-32 does not match');
  return content;
}

/** Inflates a deflate stream that must end exactly at the end of `data`, refusing more than `size` bytes out. */
function inflateAll(data: Buffer, size: number): Buffer {
  let result: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    result = inflateRawSync(data, {
      info: true,
      maxOutputLength: Math.max(1, size),
    }) as unknown as typeof result;
  } catch (error) {
    // Past maxOutputLength zlib stops with ERR_BUFFER_TOO_LARGE: the entry holds more than it says.
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new UnpackError('package_not_zip', 'more bytes than its declared size');
    }
    throw new UnpackError(
      'package_not_zip',
      `its deflate stream is broken (${(error as { code?: string }).code ?? 'error'})`,
    );
  }
  if (result.engine.bytesWritten !== data.length) {
    throw new UnpackError(
      'package_unexpected_bytes',
      `${data.length - result.engine.bytesWritten} bytes after the end of its compressed data`,
    );
  }
  return result.buffer;
}

function readU64(bytes: Buffer, at: number): number {
  const value = bytes.readBigUInt64LE(at);
  // Past 2^53 no archive of ours can reach: keep it as an impossible offset, never a wrapped one.
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}
