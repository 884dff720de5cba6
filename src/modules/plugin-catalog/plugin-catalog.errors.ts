import { AppException } from '../../common/errors/app.exception.js';
import type { ErrorCode } from '../../common/errors/error-codes.js';

/** The error codes the plugin catalog raises (statuses in common/errors/error-codes.ts). */
export type PluginCatalogCode = Extract<
  ErrorCode,
  'validation_failed' | 'not_found' | 'forbidden' | 'link_expired' | 'link_invalid'
>;

export class PluginCatalogException extends AppException<PluginCatalogCode> {}
