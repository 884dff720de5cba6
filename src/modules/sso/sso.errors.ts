import { AppException } from '../../common/errors/app.exception.js';
import type { ErrorCode } from '../../common/errors/error-codes.js';

/** The error codes single sign-on raises (statuses in common/errors/error-codes.ts). */
export type SsoCode = Extract<
  ErrorCode,
  | 'validation_failed'
  | 'not_found'
  | 'duplicate'
  | 'forbidden'
  | 'invalid_credentials'
  | 'feature_not_configured'
  | 'sso_state_invalid'
  | 'sso_code_invalid'
  | 'sso_failed'
  | 'sso_issuer_invalid'
  | 'sso_required'
  | 'id_token_invalid'
  | 'email_unverified'
  | 'link_required'
  | 'redirect_uri_not_allowed'
  | 'provider_unavailable'
>;

export class SsoException extends AppException<SsoCode> {}
