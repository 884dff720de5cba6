import type { IncomingHttpHeaders } from 'node:http';
import type { ByteRange } from '../../common/blob-store/blob-store.js';
import { CHECKSUM_PATTERN } from '../../common/checksum.js';
import { satisfiableRange } from '../../common/http/byte-range.js';
import { BackupException } from './backup.errors.js';

/** What an upload's headers say about the backup. */
export interface BackupUploadMeta {
  version: number;
  timestamp: number;
  checksum: string;
  contentLength?: number;
}

/** The X-Backup-* headers of an upload; 400 naming every bad one. */
export function parseBackupHeaders(headers: IncomingHttpHeaders): BackupUploadMeta {
  const one = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const problems: string[] = [];
  const version = one('x-backup-version');
  const timestamp = one('x-backup-timestamp');
  const checksum = one('x-backup-checksum');
  if (!version || !/^\d{1,9}$/.test(version))
    problems.push('X-Backup-Version must be a non-negative integer');
  if (!timestamp || !/^\d{1,15}$/.test(timestamp))
    problems.push('X-Backup-Timestamp must be an integer (ms since epoch)');
  if (!checksum || !CHECKSUM_PATTERN.test(checksum)) {
    problems.push('X-Backup-Checksum must be the lowercase hex SHA-256 of the body');
  }
  if (problems.length) throw new BackupException('validation_failed', problems);
  const length = one('content-length');
  return {
    version: Number(version),
    timestamp: Number(timestamp),
    checksum: checksum!,
    contentLength: length && /^\d+$/.test(length) ? Number(length) : undefined,
  };
}

/** One `bytes=` range (start-end, start-, or -suffix) of a `size`-byte backup; 416 when it cannot be satisfied. */
export function parseRange(header: string, size: number): ByteRange {
  const range = satisfiableRange(header, size);
  if (!range) {
    throw new BackupException(
      'range_not_satisfiable',
      `Range not satisfiable: the backup has ${size} bytes`,
      {
        content_range: `bytes */${size}`,
      },
    );
  }
  return range;
}
