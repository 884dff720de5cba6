import { AppException } from '../../common/errors/app.exception.js';
import type { ErrorCode } from '../../common/errors/error-codes.js';

/** The error codes this module raises (statuses in common/errors/error-codes.ts). */
export type VectorCode = Extract<
  ErrorCode,
  'validation_failed' | 'checksum_mismatch' | 'feature_not_configured'
>;

export class VectorException extends AppException<VectorCode> {}
