import { AppException } from '../../common/errors/app.exception.js';
import type { ErrorCode } from '../../common/errors/error-codes.js';

/** The error codes this module raises (statuses in common/errors/error-codes.ts). */
export type AuthCode = Extract<
  ErrorCode,
  | 'unauthenticated'
  | 'invalid_credentials'
  | 'token_expired'
  | 'session_ended'
  | 'duplicate'
  | 'not_found'
  | 'limit_reached'
  | 'sso_required'
  | 'forbidden'
>;

export class AuthException extends AppException<AuthCode> {}
