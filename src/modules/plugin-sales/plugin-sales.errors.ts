import { AppException } from '../../common/errors/app.exception.js';
import type { ErrorCode } from '../../common/errors/error-codes.js';

/** The error codes plugin sales raise (statuses in common/errors/error-codes.ts). */
export type PluginSalesCode = Extract<
  ErrorCode,
  | 'payment_required'
  | 'payment_pending'
  | 'feature_not_configured'
  | 'provider_unavailable'
  | 'service_unavailable'
>;

export class PluginSalesException extends AppException<PluginSalesCode> {}
