import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { CheckTimeoutError, type Deadline } from './deadline.js';
import type { CheckResult, PackageFile, PackageLimits } from './types.js';

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const STORED = 0;
const DEFLATED = 8;
export const PACKAGE_MANIFEST = 'manifest.json';

interface ListedEntry {
  entry: yauzl.Entry;
  name: string;
  /** Whether its bytes may be inflated: a regular file with no problem. */
  readable: boolean;
}

/** A problem of the archive itself (yauzl's or ours), as opposed to a fault of this code. */
class ArchiveError extends Error {}

function failed(code: string, message: string, file?: string): CheckResult {
  return { check: 'package', status: 'failed', code, message, ...(file === undefined ? {} : { file }) };
}

/**
 * Checks the package archive, pushing every finding to `sink`. Returns the inflated files for the
 * secret scan, or undefined when the archive could not be examined (not a zip, or over a limit
 * that forbids inflating it).
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
  const zip = await openOrReport(bytes, deadline, sink);
  if (!zip) return undefined;
  try {
    return await examine(zip, submitted, limits, deadline, sink);
  } finally {
    zip.close();
  }
}

async function openOrReport(bytes: Buffer, deadline: Deadline, sink: CheckResult[]) {
  try {
    const options = { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true };
    return await deadline.race(yauzl.fromBufferPromise(bytes, options));
  } catch (error) {
    if (error instanceof CheckTimeoutError) throw error;
    sink.push(failed('package_not_zip', `the package is not a well-formed zip archive: ${reason(error)}`));
    return undefined;
  }
}

async function examine(
  zip: yauzl.ZipFile,
  submitted: unknown,
  limits: PackageLimits,
  deadline: Deadline,
  sink: CheckResult[],
): Promise<PackageFile[] | undefined> {
  if (zip.entryCount > limits.maxFiles) {
    const message = `the package has ${zip.entryCount} entries; at most ${limits.maxFiles}`;
    sink.push(failed('package_too_many_files', message));
    return undefined;
  }
  const listed = await listOrReport(zip, limits, deadline, sink);
  if (!listed) return undefined;
  if (!listed.some((item) => item.name === PACKAGE_MANIFEST)) {
    const message = `the package has no top-level ${PACKAGE_MANIFEST}`;
    sink.push(failed('package_missing_manifest', message, PACKAGE_MANIFEST));
  }
  // Summed from the central directory before anything is inflated: a zip bomb is refused unopened.
  const declared = listed.reduce((sum, item) => sum + item.entry.uncompressedSize, 0);
  if (declared > limits.maxUnpackedBytes) {
    const message = `the package unpacks to ${declared} bytes; at most ${limits.maxUnpackedBytes}`;
    sink.push(failed('package_unpacked_too_large', message));
    return undefined;
  }
  const files = await inflateAll(zip, listed, limits, deadline, sink);
  sink.push(...compareManifest(files, submitted));
  return files;
}

/** The central directory, each entry checked; undefined when it cannot be read at all. */
async function listOrReport(
  zip: yauzl.ZipFile,
  limits: PackageLimits,
  deadline: Deadline,
  sink: CheckResult[],
): Promise<ListedEntry[] | undefined> {
  const listed: ListedEntry[] = [];
  const names = new Set<string>();
  try {
    for await (const entry of zip.eachEntry()) {
      deadline.throwIfExpired();
      const name = yauzl.getFileNameLowLevel(
        entry.generalPurposeBitFlag,
        entry.fileNameRaw,
        entry.extraFields,
        true,
      );
      const problems = entryProblems(entry, name, limits);
      if (names.has(name))
        problems.push(failed('package_duplicate_entry', `${quoteName(name)} appears twice`, name));
      names.add(name);
      sink.push(...problems);
      listed.push({ entry, name, readable: problems.length === 0 && !name.endsWith('/') });
    }
  } catch (error) {
    if (error instanceof CheckTimeoutError) throw error;
    sink.push(failed('package_not_zip', `the package is not a well-formed zip archive: ${reason(error)}`));
    return undefined;
  }
  return listed;
}

function entryProblems(entry: yauzl.Entry, name: string, limits: PackageLimits): CheckResult[] {
  const problems: CheckResult[] = [];
  if (/^[/\\]/.test(name) || /^[a-zA-Z]:/.test(name) || name.includes('\\')) {
    problems.push(failed('package_absolute_path', `absolute path or backslash in ${quoteName(name)}`, name));
  }
  if (name.split(/[/\\]/).includes('..')) {
    problems.push(failed('package_path_traversal', `invalid relative path: ${quoteName(name)}`, name));
  }
  if (((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) {
    problems.push(failed('package_symlink', `${quoteName(name)} is a symbolic link`, name));
  }
  if (entry.isEncrypted())
    problems.push(failed('package_encrypted', `${quoteName(name)} is encrypted`, name));
  if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED) {
    const method = entry.compressionMethod;
    problems.push(
      failed('package_not_zip', `${quoteName(name)} uses unsupported compression method ${method}`, name),
    );
  }
  if (entry.uncompressedSize > limits.maxFileBytes) {
    const size = entry.uncompressedSize;
    const message = `${quoteName(name)} is ${size} bytes unpacked; at most ${limits.maxFileBytes}`;
    problems.push(failed('package_file_too_large', message, name));
  }
  return problems;
}

async function inflateAll(
  zip: yauzl.ZipFile,
  listed: ListedEntry[],
  limits: PackageLimits,
  deadline: Deadline,
  sink: CheckResult[],
): Promise<PackageFile[]> {
  const files: PackageFile[] = [];
  let total = 0;
  for (const { entry, name } of listed.filter((item) => item.readable)) {
    deadline.throwIfExpired();
    try {
      const content = await deadline.race(inflate(zip, entry));
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
      files.push({ name, content });
    } catch (error) {
      if (!(error instanceof ArchiveError)) throw error;
      sink.push(failed('package_not_zip', `${quoteName(name)} cannot be unpacked: ${error.message}`, name));
    }
  }
  return files;
}

/** The entry's bytes; yauzl stops a stream that yields more than the declared size, and we check the CRC. */
async function inflate(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    const stream = await zip.openReadStreamPromise(entry);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > entry.uncompressedSize) throw new Error('more bytes than its declared size');
      chunks.push(chunk);
    }
  } catch (error) {
    throw new ArchiveError(reason(error));
  }
  const content = Buffer.concat(chunks, size);
  if (content.length !== entry.uncompressedSize) throw new ArchiveError('fewer bytes than its declared size');
  if (crc32(content) !== entry.crc32) throw new ArchiveError('its CRC-32 does not match');
  return content;
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

function quoteName(name: string): string {
  const shown = JSON.stringify(name);
  return shown.length > 130 ? `${shown.slice(0, 127)}…"` : shown;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : 'unknown error';
}
