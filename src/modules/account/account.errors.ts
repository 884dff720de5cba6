import { AppException } from '../../common/errors/app.exception.js';
import type { ErrorCode } from '../../common/errors/error-codes.js';

/** The error codes this module raises (statuses in common/errors/error-codes.ts). */
export type AccountCode = Extract<
  ErrorCode,
  | 'validation_failed'
  | 'invalid_credentials'
  | 'reauthentication_required'
  | 'not_found'
  | 'export_in_progress'
  | 'erasure_not_pending'
  | 'rate_limited'
  | 'link_expired'
  | 'link_invalid'
>;

export class AccountException extends AppException<AccountCode> {}
