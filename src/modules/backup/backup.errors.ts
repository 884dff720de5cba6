import { AppException } from '../../common/errors/app.exception.js';
import type { ErrorCode } from '../../common/errors/error-codes.js';

/** The error codes this module raises (statuses in common/errors/error-codes.ts). */
export type BackupCode = Extract<
  ErrorCode,
  | 'validation_failed'
  | 'checksum_mismatch'
  | 'upload_incomplete'
  | 'not_found'
  | 'quota_exceeded'
  | 'range_not_satisfiable'
>;

export class BackupException extends AppException<BackupCode> {}
