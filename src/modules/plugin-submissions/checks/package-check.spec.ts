import {
  buildPluginZip,
  type PackageEntry,
  renameEntry,
  setDeclaredSize,
  sha256Hex,
  validPluginPackage,
  sampleManifest,
} from '../../../../test/support/plugin-package.js';
import {
  type CheckResult,
  DEFAULT_PACKAGE_LIMITS,
  type PackageLimits,
  runSubmissionChecks,
} from './index.js';

const manifest = sampleManifest;
const manifestEntry: PackageEntry = { name: 'manifest.json', content: JSON.stringify(manifest) };

async function packageResults(packageBytes: Buffer, limits?: PackageLimits) {
  const report = await runSubmissionChecks(
    { manifest, packageBytes, checksum: sha256Hex(packageBytes), existing: [] },
    { limits },
  );
  return { report, results: report.results.filter((result) => result.check === 'package') };
}

function summary(results: CheckResult[]) {
  return results.map(({ code, file }) => ({ code, file }));
}

describe('package check', () => {
  it('passes a well-formed package and lists the secret scan after it', async () => {
    const { report, results } = await packageResults(validPluginPackage(manifest));
    expect(results).toEqual([
      { check: 'package', status: 'passed', code: 'ok', message: 'the package check found nothing' },
    ]);
    expect(report.results.map((result) => result.check)).toEqual([
      'manifest',
      'checksum',
      'package',
      'secrets',
      'squatting',
    ]);
  });

  it('refuses bytes that are not a zip archive, saying why, and skips the secret scan', async () => {
    const { report, results } = await packageResults(Buffer.from('PK\u0003\u0004 definitely not a zip'));
    expect(summary(results)).toEqual([{ code: 'package_not_zip', file: undefined }]);
    expect(results[0].message).toBe(
      'the package is not a well-formed zip archive: no end of central directory record',
    );
    expect(report.verdict).toBe('failed');
    expect(report.results.some((result) => result.check === 'secrets')).toBe(false);
  });

  it('refuses a package over the size limit without opening it', async () => {
    const bytes = validPluginPackage(manifest);
    const { results } = await packageResults(bytes, {
      ...DEFAULT_PACKAGE_LIMITS,
      maxPackageBytes: bytes.length - 1,
    });
    expect(summary(results)).toEqual([{ code: 'package_too_large', file: undefined }]);
    expect(results[0].message).toBe(`the package is ${bytes.length} bytes; at most ${bytes.length - 1}`);
  });

  it('refuses a `../` entry, naming it', async () => {
    const zip = buildPluginZip([manifestEntry, { name: 'aa/evil.js', content: 'x' }]);
    const { results } = await packageResults(renameEntry(zip, 'aa/evil.js', '../evil.js'));
    expect(summary(results)).toEqual([{ code: 'package_path_traversal', file: '../evil.js' }]);
    expect(results[0].message).toBe('invalid relative path: "../evil.js"');
  });

  it('refuses absolute paths, drive letters and backslashes, each named', async () => {
    const zip = buildPluginZip([
      manifestEntry,
      { name: 'etc-passwd.js', content: 'x' },
      { name: 'cwindows.js', content: 'x' },
      { name: 'lib-a.js', content: 'x' },
    ]);
    let bytes = renameEntry(zip, 'etc-passwd.js', '/etc/passwd.j');
    bytes = renameEntry(bytes, 'cwindows.js', 'C:windows.j');
    bytes = renameEntry(bytes, 'lib-a.js', 'lib\\a.js');
    const { results } = await packageResults(bytes);
    expect(summary(results)).toEqual([
      { code: 'package_absolute_path', file: '/etc/passwd.j' },
      { code: 'package_absolute_path', file: 'C:windows.j' },
      { code: 'package_absolute_path', file: 'lib\\a.js' },
    ]);
  });

  it('refuses a symbolic link, naming it', async () => {
    const bytes = buildPluginZip([
      manifestEntry,
      { name: 'secrets', content: '/etc/shadow', mode: 0o120777 },
    ]);
    const { results } = await packageResults(bytes);
    expect(summary(results)).toEqual([{ code: 'package_symlink', file: 'secrets' }]);
    expect(results[0].message).toBe('"secrets" is a symbolic link');
  });

  it('refuses an encrypted entry', async () => {
    const zip = buildPluginZip([manifestEntry, { name: 'locked.js', content: 'x' }]);
    const bytes = Buffer.from(zip);
    // Set the "encrypted" flag (bit 0) in both headers of the second entry (its name ends each).
    const central = bytes.lastIndexOf(Buffer.from('locked.js')) - 46;
    bytes.writeUInt16LE(bytes.readUInt16LE(central + 8) | 1, central + 8);
    const local = bytes.indexOf(Buffer.from('locked.js')) - 30;
    bytes.writeUInt16LE(bytes.readUInt16LE(local + 6) | 1, local + 6);
    const { results } = await packageResults(bytes);
    expect(summary(results)).toEqual([{ code: 'package_encrypted', file: 'locked.js' }]);
  });

  it('refuses a package whose declared unpacked size is over the bound before inflating anything', async () => {
    const zip = buildPluginZip([
      manifestEntry,
      { name: 'a.txt', content: 'a' },
      { name: 'b.txt', content: 'b' },
    ]);
    let bytes = setDeclaredSize(zip, 'a.txt', 15 * 1024 * 1024);
    bytes = setDeclaredSize(bytes, 'b.txt', 15 * 1024 * 1024);
    const limits = { ...DEFAULT_PACKAGE_LIMITS, maxUnpackedBytes: 20 * 1024 * 1024 };
    const { report, results } = await packageResults(bytes, limits);
    expect(summary(results)).toEqual([{ code: 'package_unpacked_too_large', file: undefined }]);
    expect(results[0].message).toMatch(/^the package unpacks to 31457\d+ bytes; at most 20971520$/);
    expect(report.results.some((result) => result.check === 'secrets')).toBe(false);
  });

  it('refuses a real zip bomb (60 MiB of zeros in a few KiB) by its declared size', async () => {
    const bytes = buildPluginZip([
      manifestEntry,
      { name: 'zeros.bin', content: Buffer.alloc(60 * 1024 * 1024) },
    ]);
    expect(bytes.length).toBeLessThan(100 * 1024);
    const { results } = await packageResults(bytes);
    expect(summary(results)).toEqual([
      { code: 'package_file_too_large', file: 'zeros.bin' },
      { code: 'package_unpacked_too_large', file: undefined },
    ]);
  });

  it('stops inflating an entry that yields more than its declared size', async () => {
    const zip = buildPluginZip([manifestEntry, { name: 'liar.txt', content: 'x'.repeat(10_000) }]);
    const { results } = await packageResults(setDeclaredSize(zip, 'liar.txt', 100));
    expect(summary(results)).toEqual([{ code: 'package_not_zip', file: 'liar.txt' }]);
    expect(results[0].message).toMatch(/^"liar.txt" cannot be unpacked: .*(too many bytes|more bytes)/);
  });

  it('refuses an entry whose bytes do not match its CRC-32', async () => {
    const zip = buildPluginZip([manifestEntry, { name: 'flip.txt', content: 'hello' }]);
    const bytes = Buffer.from(zip);
    const central = bytes.lastIndexOf(Buffer.from('flip.txt')) - 46;
    bytes.writeUInt32LE(bytes.readUInt32LE(central + 16) ^ 1, central + 16);
    const local = bytes.indexOf(Buffer.from('flip.txt')) - 30;
    bytes.writeUInt32LE(bytes.readUInt32LE(local + 14) ^ 1, local + 14);
    const { results } = await packageResults(bytes);
    expect(results.map((result) => result.message)).toEqual([
      '"flip.txt" cannot be unpacked: its CRC-32 does not match',
    ]);
  });

  it('refuses a CRC-32 the local header and the central directory state differently', async () => {
    const zip = buildPluginZip([manifestEntry, { name: 'flip.txt', content: 'hello' }]);
    const bytes = Buffer.from(zip);
    const central = bytes.lastIndexOf(Buffer.from('flip.txt')) - 46;
    bytes.writeUInt32LE(bytes.readUInt32LE(central + 16) ^ 1, central + 16);
    const { results } = await packageResults(bytes);
    expect(results.map(({ code, message }) => ({ code, message }))).toEqual([
      {
        code: 'package_header_mismatch',
        message: '"flip.txt": its local header and central directory disagree on its CRC or sizes',
      },
    ]);
  });

  it('refuses too many files, and a file over the per-file bound', async () => {
    const files = [...Array(6).keys()].map((index) => ({ name: `f${index}.txt`, content: 'x' }));
    const limits = { ...DEFAULT_PACKAGE_LIMITS, maxFiles: 5 };
    const many = await packageResults(buildPluginZip([manifestEntry, ...files]), limits);
    expect(summary(many.results)).toEqual([{ code: 'package_too_many_files', file: undefined }]);
    expect(many.results[0].message).toBe('the package has 7 entries; at most 5');

    const big = { ...DEFAULT_PACKAGE_LIMITS, maxFileBytes: 1000 };
    const one = await packageResults(
      buildPluginZip([manifestEntry, { name: 'big.js', content: 'y'.repeat(1001) }]),
      big,
    );
    expect(summary(one.results)).toEqual([{ code: 'package_file_too_large', file: 'big.js' }]);
  });

  it('requires a top-level manifest.json that names the submitted id and version', async () => {
    const nested = await packageResults(buildPluginZip([{ name: 'sub/manifest.json', content: '{}' }]));
    expect(summary(nested.results)).toEqual([{ code: 'package_missing_manifest', file: 'manifest.json' }]);

    const other = validPluginPackage({ ...manifest, id: 'other-id', version: '2.0.0' });
    const mismatch = await packageResults(other);
    expect(mismatch.results.map(({ code, file, message }) => ({ code, file, message }))).toEqual([
      {
        code: 'package_manifest_mismatch',
        file: 'manifest.json',
        message: 'manifest.json has a different id than the submitted manifest',
      },
      {
        code: 'package_manifest_mismatch',
        file: 'manifest.json',
        message: 'manifest.json has a different version than the submitted manifest',
      },
    ]);

    const broken = await packageResults(buildPluginZip([{ name: 'manifest.json', content: '{ nope' }]));
    expect(broken.results.map((result) => result.message)).toEqual(['manifest.json is not valid JSON']);
  });

  it('collects every problem of the archive, not only the first', async () => {
    const zip = buildPluginZip([
      { name: 'aa/x.js', content: 'x' },
      { name: 'link', content: '/', mode: 0o120777 },
      { name: 'etc-passwd.js', content: 'x' },
      { name: 'dup.js', content: '1' },
      { name: 'dup.js', content: '2' },
    ]);
    const bytes = renameEntry(renameEntry(zip, 'aa/x.js', '../x.js'), 'etc-passwd.js', '/etc/passwd.j');
    const { results } = await packageResults(bytes);
    expect(summary(results)).toEqual([
      { code: 'package_path_traversal', file: '../x.js' },
      { code: 'package_symlink', file: 'link' },
      { code: 'package_absolute_path', file: '/etc/passwd.j' },
      { code: 'package_duplicate_entry', file: 'dup.js' },
      { code: 'package_missing_manifest', file: 'manifest.json' },
    ]);
  });
});
