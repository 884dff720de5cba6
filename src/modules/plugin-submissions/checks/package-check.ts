import yauzl from 'yauzl';
import { CheckTimeoutError, type Deadline } from './deadline.js';
import { nestedArchiveByContent, nestedArchiveByName } from './nested-archive.js';
import type { CheckResult, PackageFile, PackageLimits } from './types.js';
import {
  quoteName,
  readZipStructure,
  UnpackError,
  unpackEntry,
  type ZipEntryRecord,
} from './zip-structure.js';

export const PACKAGE_MANIFEST = 'manifest.json';

function failed(code: string, message: string, file?: string): CheckResult {
  return { check: 'package', status: 'failed', code, message, ...(file === undefined ? {} : { file }) };
}

/**
 * Checks the package archive, pushing every finding to `sink`. Returns the unpacked files for the
 * secret scan, or undefined when the archive could not be examined (not a zip, over a limit that
 * forbids unpacking it, or built so that unzippers could disagree about which files it holds).
 *
 * Two readers: our strict one (zip-structure.ts) reads the end record, the central directory and
 * every local header and refuses whatever two unzippers could read differently; yauzl then reads
 * the same archive independently, and must list the same entries. The files are unpacked from the
 * bytes the strict reader located.
 */
export async function checkPackage(
  bytes: Buffer,
  submitted: unknown,
  limits: PackageLimits,
  deadline: Deadline,
  sink: CheckResult[],
): Promise<PackageFile[] | undefined> {
  if (bytes.length > limits.maxPackageBytes) {
    sink.push(
      failed('package_too_large', `the package is ${bytes.length} bytes; at most ${limits.maxPackageBytes}`),
    );
    return undefined;
  }
  const structure = readZipStructure(bytes, limits, sink);
  if (!structure) return undefined;
  deadline.throwIfExpired();
  const { entries, archiveProblems } = structure;
  const problems = entries.map((entry) => entryProblems(entry, limits));
  markCollisions(entries, problems);
  sink.push(...archiveProblems, ...problems.flat());
  // Which files the archive holds is in doubt: nothing of it is unpacked or scanned.
  if (archiveProblems.length > 0) return undefined;
  if (!(await sameAsYauzl(bytes, entries, problems, deadline, sink))) return undefined;
  if (!entries.some((entry) => entry.name === PACKAGE_MANIFEST)) {
    const message = `the package has no top-level ${PACKAGE_MANIFEST}`;
    sink.push(failed('package_missing_manifest', message, PACKAGE_MANIFEST));
  }
  // Summed from the central directory before anything is inflated: a zip bomb is refused unopened.
  const declared = entries.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
  if (declared > limits.maxUnpackedBytes) {
    const message = `the package unpacks to ${declared} bytes; at most ${limits.maxUnpackedBytes}`;
    sink.push(failed('package_unpacked_too_large', message));
    return undefined;
  }
  const readable = entries.filter((entry, index) => problems[index].length === 0 && !entry.directory);
  const files = unpackAll(bytes, readable, limits, deadline, sink);
  sink.push(...compareManifest(files, submitted));
  return files;
}

/** What is wrong with one entry: its path, its type and encoding (the strict reader's findings), its size. */
function entryProblems(entry: ZipEntryRecord, limits: PackageLimits): CheckResult[] {
  const { name } = entry;
  const problems: CheckResult[] = [];
  if (/^[/\\]/.test(name) || /^[a-zA-Z]:/.test(name) || name.includes('\\')) {
    problems.push(failed('package_absolute_path', `absolute path or backslash in ${quoteName(name)}`, name));
  }
  if (name.split(/[/\\]/).includes('..')) {
    problems.push(failed('package_path_traversal', `invalid relative path: ${quoteName(name)}`, name));
  }
  problems.push(...entry.problems);
  if (!entry.directory && nestedArchiveByName(name)) {
    problems.push(nestedArchive(name));
  }
  if (entry.uncompressedSize > limits.maxFileBytes) {
    const size = entry.uncompressedSize;
    const message = `${quoteName(name)} is ${size} bytes unpacked; at most ${limits.maxFileBytes}`;
    problems.push(failed('package_file_too_large', message, name));
  }
  return problems;
}

function nestedArchive(name: string): CheckResult {
  return failed(
    'package_nested_archive',
    `${quoteName(name)} is an archive inside the package: unpack its files into the package instead`,
    name,
  );
}

/**
 * The same name twice (`package_duplicate_entry`), or two names one file system keeps apart and
 * another merges (`package_name_collision`): equal once in Unicode NFC and case-folded
 * (`manifest.json` and `MANIFEST.JSON`, a name in NFC and in NFD), or a file where another entry
 * needs a directory. Which of the two an installer keeps would be up to its file system.
 */
function markCollisions(entries: ZipEntryRecord[], problems: CheckResult[][]): void {
  const exact = new Set<string>();
  const files = new Map<string, string>();
  const directories = new Map<string, string>();
  entries.forEach((entry, index) => {
    const { name } = entry;
    const key = foldName(name.replace(/\/+$/, ''));
    const parents = key
      .split('/')
      .slice(0, -1)
      .map((_, depth, parts) => parts.slice(0, depth + 1).join('/'));
    const collision = (other: string) =>
      failed(
        'package_name_collision',
        `${quoteName(name)} and ${quoteName(other)} are the same name on some file systems`,
        name,
      );
    if (exact.has(name)) {
      problems[index].push(failed('package_duplicate_entry', `${quoteName(name)} appears twice`, name));
    } else if (files.has(key)) {
      problems[index].push(collision(files.get(key)!));
    } else if (entry.directory && directories.has(key) && directories.get(key) !== name) {
      problems[index].push(collision(directories.get(key)!));
    } else if (!entry.directory && directories.has(key)) {
      problems[index].push(collision(directories.get(key)!));
    } else {
      const parentFile = parents.find((parent) => files.has(parent));
      if (parentFile !== undefined) problems[index].push(collision(files.get(parentFile)!));
    }
    exact.add(name);
    if (entry.directory) {
      if (!directories.has(key)) directories.set(key, name);
    } else if (!files.has(key)) files.set(key, name);
    for (const parent of parents) if (!directories.has(parent)) directories.set(parent, `${parent}/`);
  });
}

/** NFC, then full case folding (upper then lower catches ß/SS and the Kelvin sign), then NFC again. */
export function foldName(name: string): string {
  return name.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

/**
 * yauzl must read the archive as the strict reader did: the same entries, names, places and sizes.
 * A disagreement means the strict reader missed a way to bend the format; it fails closed.
 */
async function sameAsYauzl(
  bytes: Buffer,
  entries: ZipEntryRecord[],
  problems: CheckResult[][],
  deadline: Deadline,
  sink: CheckResult[],
): Promise<boolean> {
  let listed: yauzl.Entry[];
  try {
    listed = await yauzlEntries(bytes, deadline);
  } catch (error) {
    if (error instanceof CheckTimeoutError) throw error;
    sink.push(failed('package_not_zip', `the package is not a well-formed zip archive: ${reason(error)}`));
    return false;
  }
  const disagreement = firstDisagreement(entries, listed, problems);
  if (disagreement === undefined) return true;
  sink.push(
    failed('package_readers_disagree', `two zip readers disagree about this package: ${disagreement}`),
  );
  return false;
}

/** The archive's entries as yauzl lists them (names left raw, sizes checked). */
async function yauzlEntries(bytes: Buffer, deadline: Deadline): Promise<yauzl.Entry[]> {
  const listed: yauzl.Entry[] = [];
  const options = { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true };
  const zip = await deadline.race(yauzl.fromBufferPromise(bytes, options));
  try {
    for await (const entry of zip.eachEntry()) {
      deadline.throwIfExpired();
      listed.push(entry);
    }
  } finally {
    zip.close();
  }
  return listed;
}

/** Where yauzl's listing differs from the strict reader's (for the message), or undefined where it does not. */
function firstDisagreement(
  entries: ZipEntryRecord[],
  listed: yauzl.Entry[],
  problems: CheckResult[][],
): string | undefined {
  if (listed.length !== entries.length) return `${entries.length} entries against ${listed.length}`;
  for (const [index, entry] of entries.entries()) {
    // An entry already refused (a second name in an extra field…) is not compared again.
    if (problems[index].length > 0) continue;
    if (!sameEntry(entry, listed[index])) return `entry ${index + 1} (${quoteName(entry.name)})`;
  }
  return undefined;
}

/** The same name, local header offset, sizes, CRC and compression method. */
function sameEntry(entry: ZipEntryRecord, other: yauzl.Entry): boolean {
  const name = yauzl.getFileNameLowLevel(
    other.generalPurposeBitFlag,
    other.fileNameRaw,
    other.extraFields,
    true,
  );
  return (
    name === entry.name &&
    other.relativeOffsetOfLocalHeader === entry.localOffset &&
    other.compressedSize === entry.compressedSize &&
    other.uncompressedSize === entry.uncompressedSize &&
    other.crc32 === entry.crc32 &&
    other.compressionMethod === entry.method
  );
}

/** Unpacks the readable entries, stopping past the unpacked bound; an entry that cannot be unpacked is named. */
function unpackAll(
  bytes: Buffer,
  readable: ZipEntryRecord[],
  limits: PackageLimits,
  deadline: Deadline,
  sink: CheckResult[],
): PackageFile[] {
  const files: PackageFile[] = [];
  let total = 0;
  for (const entry of readable) {
    deadline.throwIfExpired();
    const { name } = entry;
    let content: Buffer;
    try {
      content = unpackEntry(bytes, entry);
    } catch (error) {
      if (!(error instanceof UnpackError)) throw error;
      sink.push(failed(error.code, `${quoteName(name)} cannot be unpacked: ${error.message}`, name));
      continue;
    }
    total += content.length;
    if (total > limits.maxUnpackedBytes) {
      sink.push(
        failed(
          'package_unpacked_too_large',
          `the package unpacks to more than ${limits.maxUnpackedBytes} bytes`,
        ),
      );
      break;
    }
    if (nestedArchiveByContent(content)) {
      sink.push(nestedArchive(name));
      continue;
    }
    files.push({ name, content });
  }
  return files;
}

/** The packaged manifest.json must name the same plugin and version as the submitted one. */
function compareManifest(files: PackageFile[], submitted: unknown): CheckResult[] {
  const packaged = files.find((file) => file.name === PACKAGE_MANIFEST);
  if (!packaged || typeof submitted !== 'object' || submitted === null) return [];
  const mismatch = (message: string) => failed('package_manifest_mismatch', message, PACKAGE_MANIFEST);
  let parsed: unknown;
  try {
    parsed = JSON.parse(packaged.content.toString('utf8'));
  } catch {
    return [mismatch(`${PACKAGE_MANIFEST} is not valid JSON`)];
  }
  if (typeof parsed !== 'object' || parsed === null)
    return [mismatch(`${PACKAGE_MANIFEST} is not a JSON object`)];
  const results: CheckResult[] = [];
  for (const field of ['id', 'version'] as const) {
    const inPackage = (parsed as Record<string, unknown>)[field];
    const inSubmission = (submitted as Record<string, unknown>)[field];
    if (inPackage !== inSubmission) {
      results.push(mismatch(`${PACKAGE_MANIFEST} has a different ${field} than the submitted manifest`));
    }
  }
  return results;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : 'unknown error';
}
