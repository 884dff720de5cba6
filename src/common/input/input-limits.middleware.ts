import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppException } from '../errors/app.exception.js';
import { findInputProblem } from './input-limits.js';

/**
 * Checks the query string of every request against the input limits, before
 * routing, so it covers every route and every DTO. A problem answers 400
 * `validation_failed` naming the field. The JSON body is checked the same way
 * where it is read (after authentication, see `readRequestBody`); raw bodies
 * are not JSON and are left to their handler. Route parameters are only known
 * after routing: `ParamTextPipe` checks them.
 */
export function inputLimitsMiddleware(): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    // Header values need no check here: Node's HTTP parser answers 400 to a NUL in one before any
    // middleware runs, and decodes them as Latin-1, which cannot hold an unpaired surrogate.
    const query: unknown = req.query;
    const problem = findInputProblem(query, 'query');
    next(problem ? new AppException('validation_failed', problem.message) : undefined);
  };
}
