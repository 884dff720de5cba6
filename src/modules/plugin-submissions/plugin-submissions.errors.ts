import { AppException } from '../../common/errors/app.exception.js';
import type { ErrorCode } from '../../common/errors/error-codes.js';

/** The error codes plugin submissions and their review raise (statuses in common/errors/error-codes.ts). */
export type PluginSubmissionsCode = Extract<
  ErrorCode,
  | 'validation_failed'
  | 'not_found'
  | 'forbidden'
  | 'duplicate'
  | 'limit_reached'
  | 'plugin_checks_failed'
  | 'plugin_id_taken'
  | 'already_reviewed'
  | 'service_unavailable'
>;

export class PluginSubmissionsException extends AppException<PluginSubmissionsCode> {}
