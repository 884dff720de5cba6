import { AppException } from '../../common/errors/app.exception.js';
import type { ErrorCode } from '../../common/errors/error-codes.js';

/** The error codes this module raises (statuses in common/errors/error-codes.ts). */
export type MarketplaceCode = Extract<
  ErrorCode,
  | 'validation_failed'
  | 'not_found'
  | 'forbidden'
  | 'duplicate'
  | 'limit_reached'
  | 'payment_required'
  | 'payment_pending'
  | 'plugin_checks_failed'
  | 'plugin_id_taken'
  | 'already_reviewed'
  | 'link_expired'
  | 'link_invalid'
  | 'feature_not_configured'
  | 'provider_unavailable'
  | 'service_unavailable'
>;

export class MarketplaceException extends AppException<MarketplaceCode> {}
