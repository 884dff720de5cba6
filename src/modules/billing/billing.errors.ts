import { AppException } from '../../common/errors/app.exception.js';
import type { ErrorCode } from '../../common/errors/error-codes.js';

/** The error codes this module raises (statuses in common/errors/error-codes.ts). */
export type BillingCode = Extract<
  ErrorCode,
  | 'validation_failed'
  | 'invalid_signature'
  | 'not_found'
  | 'feature_not_configured'
  | 'provider_unavailable'
  | 'payment_required'
>;

export class BillingException extends AppException<BillingCode> {}
