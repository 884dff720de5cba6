import { deflateRawSync, gzipSync } from 'node:zlib';
import {
  buildPluginZip,
  buildRawZip,
  extraField,
  type RawZipEntry,
  type RawZipOptions,
  sampleManifest,
  sha256Hex,
  unicodePathField,
} from '../../../../test/support/plugin-package.js';
import { type CheckResult, runSubmissionChecks } from './index.js';

/**
 * Archives that two unzippers could read differently, each written byte by byte (buildRawZip) and
 * each refused with its own check code; and the well-formed variants of the same features (data
 * descriptors, zip64, a Unicode Path field that agrees) still accepted.
 */

const manifest = sampleManifest;
const manifestEntry: RawZipEntry = { name: 'manifest.json', content: JSON.stringify(manifest) };
const awsKeyId = 'AKIA' + 'Q3ZT7WX2LMN4PRS6';

async function check(entries: RawZipEntry[], options?: RawZipOptions) {
  const packageBytes = buildRawZip(entries, options);
  const report = await runSubmissionChecks({
    manifest,
    packageBytes,
    checksum: sha256Hex(packageBytes),
    existing: [],
  });
  const results = report.results.filter((result) => result.check === 'package');
  return { report, results, codes: codes(results) };
}

const codes = (results: CheckResult[]) => results.map(({ code, file }) => ({ code, file }));
const scanned = (report: { results: CheckResult[] }) => report.results.some((r) => r.check === 'secrets');

describe('package check: archives unzippers could read differently', () => {
  it('writes archives that pass when nothing is bent (so each refusal below is for its one change)', async () => {
    const plain = await check([manifestEntry, { name: 'index.js', content: 'export {};\n' }]);
    expect(plain.codes).toEqual([{ code: 'ok', file: undefined }]);
    // Same bytes as the ordinary test writer's.
    expect(buildRawZip([manifestEntry])).toEqual(
      buildPluginZip([{ name: 'manifest.json', content: JSON.stringify(manifest) }]),
    );
  });

  it('accepts data descriptors, stored entries, directories, zip64 fields that agree and a Unicode Path that agrees', async () => {
    const { codes: found } = await check(
      [
        manifestEntry,
        { name: 'streamed.js', content: 'export const a = 1;\n', dataDescriptor: true },
        { name: 'stored.txt', content: 'plain', method: 0 },
        { name: 'lib/', content: '', mode: 0o040755, method: 0 },
        { name: 'lib/big.js', content: 'export const b = 2;\n', zip64: true },
        { name: 'lib/wide.js', content: 'export {};\n', zip64: true, dataDescriptor: true },
        { name: 'café.js', content: 'x', centralExtra: unicodePathField('café.js', 'café.js') },
      ],
      { zip64End: true },
    );
    expect(found).toEqual([{ code: 'ok', file: undefined }]);
  });

  it('refuses a Unicode Path field that names the entry otherwise, either way round', async () => {
    // yauzl used to see `evil.js` here, Python's zipfile `../evil.js`.
    const hidden = await check([
      manifestEntry,
      { name: '../evil.js', content: 'x', centralExtra: unicodePathField('../evil.js', 'evil.js') },
    ]);
    expect(hidden.codes).toEqual([
      { code: 'package_path_traversal', file: '../evil.js' },
      { code: 'package_name_extra_field', file: '../evil.js' },
    ]);
    expect(hidden.results[1].message).toBe(
      '"../evil.js" carries a Unicode Path field naming it "evil.js": readers would see two names',
    );
    const local = await check([
      manifestEntry,
      { name: 'evil.js', content: 'x', localExtra: unicodePathField('evil.js', '../evil.js') },
    ]);
    expect(local.codes).toEqual([{ code: 'package_name_extra_field', file: 'evil.js' }]);
    // A stale CRC makes Info-ZIP ignore the field while other readers still honour it.
    const stale = await check([
      manifestEntry,
      { name: 'a.js', content: 'x', centralExtra: unicodePathField('other', 'a.js') },
    ]);
    expect(stale.codes).toEqual([{ code: 'package_name_extra_field', file: 'a.js' }]);
  });

  it('refuses a local header whose name differs from the central directory’s', async () => {
    const { codes: found, results } = await check([
      manifestEntry,
      { name: 'a.js', localName: '../a.js', content: 'x' },
    ]);
    expect(found).toEqual([{ code: 'package_name_mismatch', file: 'a.js' }]);
    expect(results[0].message).toBe('"a.js" is named "../a.js" in its local header');
  });

  it('refuses an end record that counts fewer entries than the central directory holds, scanning nothing', async () => {
    const { report, codes: found } = await check(
      [
        manifestEntry,
        { name: 'index.js', content: 'x' },
        { name: '../x.js', content: `const k = '${awsKeyId}';` },
      ],
      { endEntryCount: 2 },
    );
    expect(found).toContainEqual({ code: 'package_entry_count_mismatch', file: undefined });
    expect(found).toContainEqual({ code: 'package_path_traversal', file: '../x.js' });
    expect(report.verdict).toBe('failed');
    expect(scanned(report)).toBe(false);
  });

  it('refuses bytes before the first entry, whether the offsets count them or not', async () => {
    const prefix = Buffer.from('#!/bin/sh\nexit 0\n');
    const counted = await check([manifestEntry], { prefix });
    expect(counted.codes).toEqual([{ code: 'package_unexpected_bytes', file: 'manifest.json' }]);
    expect(counted.results[0].message).toBe(`${prefix.length} unlisted bytes before the first entry`);
    // Python's zipfile shifts every offset by the prefix and reads this one; yauzl does not.
    const shifted = await check([manifestEntry], { prefix, offsetsIgnorePrefix: true });
    expect(shifted.codes).toEqual([{ code: 'package_unexpected_bytes', file: undefined }]);
  });

  it('refuses a local header hidden between entries (a streaming reader would unpack it)', async () => {
    const hidden = buildRawZip([{ name: '../hidden.js', content: 'x' }]);
    const localOnly = hidden.subarray(0, hidden.indexOf(Buffer.from('PK\x01\x02', 'latin1')));
    const { report, codes: found } = await check([
      { ...manifestEntry, after: localOnly },
      { name: 'index.js', content: 'x' },
    ]);
    expect(found).toEqual([{ code: 'package_unexpected_bytes', file: 'index.js' }]);
    expect(scanned(report)).toBe(false);
  });

  it('refuses bytes after the end of an entry’s deflate stream', async () => {
    const { codes: found } = await check([
      manifestEntry,
      { name: 'index.js', content: 'x', trailingData: Buffer.from('PK\x03\x04 more', 'latin1') },
    ]);
    expect(found).toEqual([{ code: 'package_unexpected_bytes', file: 'index.js' }]);
  });

  it('refuses local headers and data descriptors that disagree with the central directory', async () => {
    const zip = buildRawZip([manifestEntry, { name: 'a.js', content: 'hello', dataDescriptor: true }]);
    const bytes = Buffer.from(zip);
    const descriptor = bytes.indexOf(Buffer.from('PK\x07\x08', 'latin1'));
    bytes.writeUInt32LE(6, descriptor + 12); // the uncompressed size it states
    const packageBytes = bytes;
    const report = await runSubmissionChecks({
      manifest,
      packageBytes,
      checksum: sha256Hex(packageBytes),
      existing: [],
    });
    expect(codes(report.results.filter((r) => r.check === 'package'))).toEqual([
      { code: 'package_header_mismatch', file: 'a.js' },
    ]);
    const stored = await check([
      manifestEntry,
      { name: 'a.txt', content: 'x', method: 0, dataDescriptor: true },
    ]);
    expect(stored.codes).toEqual([{ code: 'package_header_mismatch', file: 'a.txt' }]);
  });

  it('refuses symbolic links, devices, pipes, Windows reparse points and types that contradict the name', async () => {
    const { codes: found } = await check([
      manifestEntry,
      { name: 'link', content: '/etc/passwd', mode: 0o120777 },
      { name: 'tty', content: '', mode: 0o020644 },
      { name: 'pipe', content: '', mode: 0o010644 },
      { name: 'junction', content: 'C:\\', madeBy: 10 << 8, externalAttributes: 0x400 | 0x20 },
      { name: 'dir-like', content: '', mode: 0o040755 },
    ]);
    expect(found).toEqual([
      { code: 'package_symlink', file: 'link' },
      { code: 'package_special_file', file: 'tty' },
      { code: 'package_special_file', file: 'pipe' },
      { code: 'package_symlink', file: 'junction' },
      { code: 'package_special_file', file: 'dir-like' },
    ]);
  });

  it('refuses zip64 fields that disagree with each other', async () => {
    const entry = await check(
      [manifestEntry, { name: 'a.js', content: 'hello', zip64: true, zip64CentralUncompressedSize: 4 }],
      { zip64End: true },
    );
    expect(entry.codes).toContainEqual({ code: 'package_header_mismatch', file: 'a.js' });
    const end = await check([manifestEntry, { name: 'a.js', content: 'x' }], {
      zip64End: true,
      endEntryCount: 3,
    });
    expect(end.codes).toContainEqual({ code: 'package_zip64_inconsistent', file: undefined });
    const missing = buildRawZip([manifestEntry]);
    const bytes = Buffer.from(missing);
    bytes.writeUInt32LE(0xffffffff, bytes.length - 22 + 16); // the directory offset defers to zip64
    const report = await runSubmissionChecks({
      manifest,
      packageBytes: bytes,
      checksum: sha256Hex(bytes),
      existing: [],
    });
    expect(report.results.map((r) => r.code)).toContain('package_zip64_inconsistent');
  });

  it('refuses names equal after Unicode NFC and case folding, and a file where a directory is needed', async () => {
    const nfc = 'caf\u00e9.js';
    const nfd = 'cafe\u0301.js';
    const { codes: found, results } = await check([
      manifestEntry,
      { name: 'MANIFEST.JSON', content: '{}' },
      { name: nfc, content: '1' },
      { name: nfd, content: '2' },
      { name: 'lib', content: 'x' },
      { name: 'LIB/index.js', content: 'y' },
      { name: 'Straße.js', content: 'a' },
      { name: 'STRASSE.JS', content: 'b' },
    ]);
    expect(found).toEqual([
      { code: 'package_name_collision', file: 'MANIFEST.JSON' },
      { code: 'package_name_collision', file: nfd },
      { code: 'package_name_collision', file: 'LIB/index.js' },
      { code: 'package_name_collision', file: 'STRASSE.JS' },
    ]);
    expect(results[0].message).toBe(
      '"MANIFEST.JSON" and "manifest.json" are the same name on some file systems',
    );
  });

  it('refuses names readers decode differently: non-ASCII without the UTF-8 flag, control characters', async () => {
    const { codes: found } = await check([
      manifestEntry,
      { name: 'na\u00efve.js', content: 'x', flags: 0 },
      { name: 'a\u0000.js', content: 'x' },
    ]);
    expect(found).toEqual([
      { code: 'package_name_encoding', file: 'na\u00efve.js' },
      { code: 'package_name_encoding', file: 'a\u0000.js' },
    ]);
  });

  it('refuses malformed or repeated extra fields', async () => {
    const { codes: found } = await check([
      manifestEntry,
      { name: 'a.js', content: 'x', centralExtra: Buffer.from([0x55, 0x54, 0x09]) },
      {
        name: 'b.js',
        content: 'x',
        centralExtra: Buffer.concat([
          extraField(0x5455, Buffer.alloc(5)),
          extraField(0x5455, Buffer.alloc(5)),
        ]),
      },
    ]);
    expect(found).toEqual([
      { code: 'package_bad_extra_field', file: 'a.js' },
      { code: 'package_bad_extra_field', file: 'b.js' },
    ]);
  });

  it('refuses an archive comment that holds another end record', async () => {
    const fake = Buffer.alloc(22);
    fake.writeUInt32LE(0x06054b50, 0);
    const { codes: found } = await check([manifestEntry], {
      comment: Buffer.concat([fake, Buffer.from('!')]),
    });
    expect(found).toEqual([{ code: 'package_unexpected_bytes', file: undefined }]);
  });

  it('refuses archives inside the package, by name and by content', async () => {
    const inner = buildPluginZip([{ name: 'x.js', content: `const k = '${awsKeyId}';` }]);
    const { codes: found } = await check([
      manifestEntry,
      { name: 'vendor/lib.zip', content: inner },
      { name: 'icon.png', content: Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), inner]) },
      { name: 'data.bin', content: gzipSync('secret') },
      { name: 'raw.bin', content: deflateRawSync('not an archive format of its own') },
    ]);
    expect(found).toEqual([
      { code: 'package_nested_archive', file: 'vendor/lib.zip' },
      { code: 'package_nested_archive', file: 'icon.png' },
      { code: 'package_nested_archive', file: 'data.bin' },
    ]);
  });
});
