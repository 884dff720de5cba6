import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppException } from '../errors/app.exception.js';
import { findInputProblem, type InputProblem } from './input-limits.js';

/**
 * Checks the JSON body (depth, key count, text) and the query string of
 * every request against the input limits, after the body
 * parsers and before routing, so it covers every route and every DTO,
 * including handlers that read `req.body` themselves. A problem answers 400
 * `validation_failed` naming the field. Raw bodies (Buffers) are not JSON and
 * are left to their handler. Route parameters are only known after routing:
 * `ParamTextPipe` checks them.
 */
export function inputLimitsMiddleware(): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const problem = requestInputProblem(req);
    next(problem ? new AppException('validation_failed', problem.message) : undefined);
  };
}

function requestInputProblem(req: Request): InputProblem | undefined {
  // Header values need no check here: Node's HTTP parser answers 400 to a NUL in one before any
  // middleware runs, and decodes them as Latin-1, which cannot hold an unpaired surrogate.
  const query: unknown = req.query;
  const inQuery = findInputProblem(query, 'query');
  if (inQuery) return inQuery;
  const body: unknown = req.body;
  if (body === undefined || Buffer.isBuffer(body)) return undefined;
  return findInputProblem(body, 'body');
}
