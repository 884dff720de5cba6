import { AppException } from '../../common/errors/app.exception.js';
import type { ErrorCode } from '../../common/errors/error-codes.js';

/** The error codes this module raises (statuses in common/errors/error-codes.ts). */
export type TeamsCode = Extract<
  ErrorCode,
  | 'validation_failed'
  | 'not_found'
  | 'tier_required'
  | 'role_required'
  | 'email_mismatch'
  | 'seats_exhausted'
  | 'seats_in_use'
  | 'last_owner'
  | 'duplicate'
>;

export class TeamsException extends AppException<TeamsCode> {}

/** The one answer for an unknown team and for a team the caller is not in: nobody learns which teams exist. */
export const teamNotFound = () => new TeamsException('not_found', 'Team not found');
