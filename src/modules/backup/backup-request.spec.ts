import { parseBackupHeaders, parseRange } from './backup-request.js';
import { type BackupException } from './backup.errors.js';

const checksum = 'a'.repeat(64);

function thrown(run: () => unknown): BackupException {
  try {
    run();
  } catch (err) {
    return err as BackupException;
  }
  throw new Error('expected a BackupException');
}

describe('parseRange', () => {
  it('reads start-end, start- and -suffix ranges, clamped to the size', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=90-500', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
  });

  it('answers 416 with the size for unsatisfiable or malformed ranges', () => {
    for (const header of ['bytes=100-', 'bytes=5-2', 'bytes=-', 'items=0-1', 'bytes=0-1,3-4', 'bytes=a-b']) {
      const error = thrown(() => parseRange(header, 100));
      expect(error.code).toBe('range_not_satisfiable');
      expect(error.getStatus()).toBe(416);
      expect(error.extra).toEqual({ content_range: 'bytes */100' });
    }
  });
});

describe('parseBackupHeaders', () => {
  it('reads the backup headers and a numeric Content-Length', () => {
    expect(
      parseBackupHeaders({
        'x-backup-version': '3',
        'x-backup-timestamp': '1767225600000',
        'x-backup-checksum': checksum,
        'content-length': '42',
      }),
    ).toEqual({ version: 3, timestamp: 1767225600000, checksum, contentLength: 42 });
  });

  it('leaves the length unknown when it is missing or not a number', () => {
    const meta = parseBackupHeaders({
      'x-backup-version': '1',
      'x-backup-timestamp': '1',
      'x-backup-checksum': checksum,
    });
    expect(meta.contentLength).toBeUndefined();
  });

  it('lists every bad header at once', () => {
    const error = thrown(() =>
      parseBackupHeaders({ 'x-backup-version': '-1', 'x-backup-checksum': 'A'.repeat(64) }),
    );
    expect(error.code).toBe('validation_failed');
    expect(error.getResponse()).toMatchObject({
      message: [
        'X-Backup-Version must be a non-negative integer',
        'X-Backup-Timestamp must be an integer (ms since epoch)',
        'X-Backup-Checksum must be the lowercase hex SHA-256 of the body',
      ],
    });
  });
});
