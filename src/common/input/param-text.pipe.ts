import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { AppException } from '../errors/app.exception.js';
import { findInputProblem } from './input-limits.js';

/**
 * Route parameters are decoded by the router after every middleware ran, so
 * the input-limits middleware cannot see them: this global pipe applies the
 * same text rule (no NUL, no unpaired surrogate) to each one. Body and query
 * were checked before routing.
 */
@Injectable()
export class ParamTextPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'param') return value;
    const problem = findInputProblem(value, metadata.data ?? 'path');
    if (problem) throw new AppException('validation_failed', problem.message);
    return value;
  }
}
