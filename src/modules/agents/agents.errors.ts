import { AppException } from '../../common/errors/app.exception.js';

export type AgentsErrorCode = 'not_found' | 'tier_required' | 'validation_failed';

export class AgentsException extends AppException<AgentsErrorCode> {}

/** A plan that references a step that does not exist yet, or a template that does not exist. */
export class PlanValidationError extends Error {
  override readonly name = 'PlanValidationError';
}
