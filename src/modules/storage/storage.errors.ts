import { AppException } from '../../common/errors/app.exception.js';
import type { ErrorCode } from '../../common/errors/error-codes.js';

/** The error codes this module raises (statuses in common/errors/error-codes.ts). */
export type StorageCode = Extract<
  ErrorCode,
  | 'validation_failed'
  | 'checksum_mismatch'
  | 'invalid_cursor'
  | 'limit_reached'
  | 'not_found'
  | 'version_conflict'
  | 'quota_exceeded'
  | 'payload_too_large'
  | 'upload_incomplete'
  | 'link_expired'
  | 'link_invalid'
  | 'range_not_satisfiable'
>;

export class StorageException extends AppException<StorageCode> {}
