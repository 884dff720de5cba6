import { HttpException } from '@nestjs/common';
import { ERROR_STATUS, type ErrorCode } from './error-codes.js';

/**
 * The error every module raises: a code from the one table (its status follows
 * from it), a message a client developer can act on, and optional extra fields
 * for the body (e.g. `current_version` on a 409, `resets_at` on a 402).
 * Modules subclass it with their own code subset (`StorageException` etc.).
 */
export class AppException<C extends ErrorCode = ErrorCode> extends HttpException {
  /** The code, typed independently of C so `instanceof` narrowing keeps it an ErrorCode. */
  readonly appCode: ErrorCode;

  constructor(
    readonly code: C,
    message: string | string[],
    readonly extra: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super({ message, code, ...extra }, ERROR_STATUS[code], options);
    this.appCode = code;
  }
}
