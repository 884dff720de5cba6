/**
 * Archives inside a package are refused rather than opened: their files would escape every check
 * of the package (paths, types, the secret scan), and an installer or a plugin may unpack them
 * later. A plugin ships its files unpacked. Recognised by name and, whatever the name, by content.
 */

const ARCHIVE_EXTENSIONS =
  /\.(zip|jar|war|ear|xpi|crx|apk|aar|ipa|whl|egg|nupkg|vsix|asar|tar|tgz|tbz|tbz2|txz|tlz|gz|bz2|xz|lz|lzma|zst|z|7z|rar|cab|iso|dmg)$/i;

/** Leading bytes of archive and compressed-stream formats. */
const MAGIC: Array<{ at: number; bytes: Buffer }> = [
  ...['PK\x03\x04', 'PK\x05\x06', 'PK\x07\x08'].map((text) => ({
    at: 0,
    bytes: Buffer.from(text, 'latin1'),
  })),
  { at: 0, bytes: Buffer.from([0x1f, 0x8b]) }, // gzip
  { at: 0, bytes: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) }, // xz
  { at: 0, bytes: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]) }, // zstd
  { at: 0, bytes: Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) }, // 7z
  { at: 0, bytes: Buffer.from('Rar!\x1a\x07', 'latin1') },
  { at: 0, bytes: Buffer.from('MSCF\0\0\0\0', 'latin1') }, // cab
  { at: 257, bytes: Buffer.from('ustar', 'latin1') }, // tar
];
const BZIP2 = /^BZh[1-9]\x31\x41\x59\x26\x53\x59/;
const END_OF_CENTRAL_DIRECTORY = Buffer.from('PK\x05\x06', 'latin1');
/** A zip reader looks for its end record in the last 64 KiB and 22 bytes of a file. */
const ZIP_TAIL = 0xffff + 22;

export function nestedArchiveByName(name: string): boolean {
  return ARCHIVE_EXTENSIONS.test(name);
}

/**
 * Whether the content is an archive: by its leading bytes, or a zip end record in its tail (a zip
 * appended to another file — an image, a script — is still a zip to every zip reader).
 */
export function nestedArchiveByContent(content: Buffer): boolean {
  if (MAGIC.some(({ at, bytes }) => content.subarray(at, at + bytes.length).equals(bytes))) return true;
  if (BZIP2.test(content.subarray(0, 10).toString('latin1'))) return true;
  return content.subarray(Math.max(0, content.length - ZIP_TAIL)).includes(END_OF_CENTRAL_DIRECTORY);
}
