import { applyDecorators, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ErrorResponseDto } from '../dto/error-response.dto.js';

export type ErrorStatus = 400 | 401 | 402 | 403 | 404 | 409 | 413 | 415 | 416 | 429 | 502 | 503 | 504;

/** What each status means on this API; a route may say more. */
const DEFAULT_DESCRIPTION: Record<ErrorStatus, string> = {
  400: 'Invalid input (code validation_failed, checksum_mismatch, …); message names the problem',
  401: 'Missing, invalid or expired credentials (code unauthenticated, token_expired, session_ended, …)',
  402: 'Quota or spend limit exceeded, or the tier does not include it (code quota_exceeded, payment_required, …)',
  403: 'The tier or role does not allow it (code tier_required, role_required); message names what is needed',
  404: 'Not found, or not yours (code not_found)',
  409: 'Conflict with the stored state (code duplicate or version_conflict)',
  413: 'Body over the size limit of this route (code payload_too_large)',
  415: 'Body in a charset or Content-Encoding the server does not read (code unsupported_media_type)',
  416: 'Range not satisfiable (code range_not_satisfiable)',
  429: 'Rate limited (code rate_limited); retry after Retry-After seconds',
  502: 'The upstream provider failed (code provider_unavailable)',
  503: 'A backing service is unavailable or the feature is not configured on this server',
  504: 'The upstream provider timed out (code provider_timeout)',
};

export type ApiErrorSpec = ErrorStatus | { status: ErrorStatus; description?: string; type?: Type };

/**
 * Documents the error responses a route (or every route of a controller) can
 * answer, each with the error body (application/json, also on binary routes):
 * `@ApiErrors(400, 404, { status: 409, type: VersionConflictErrorDto, description: '…' })`.
 * 401 and 429 are added to every guarded or rate-limited route by the document
 * builder (from @Public/@SkipRateLimit), so routes need not list them.
 */
export function ApiErrors(...specs: ApiErrorSpec[]): MethodDecorator & ClassDecorator {
  const types = new Set<Type>([ErrorResponseDto]);
  const responses = specs.map((spec) => {
    const { status, description, type } = typeof spec === 'number' ? { status: spec } : spec;
    const model = type ?? ErrorResponseDto;
    types.add(model);
    return ApiResponse({
      status,
      description: description ?? DEFAULT_DESCRIPTION[status],
      content: { 'application/json': { schema: { $ref: getSchemaPath(model) } } },
    });
  });
  return applyDecorators(ApiExtraModels(...types), ...responses);
}
