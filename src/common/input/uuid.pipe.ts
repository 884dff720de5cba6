import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { AppException } from '../errors/app.exception.js';

/**
 * A UUID as RFC 9562 writes one: 32 hex digits in groups of 8-4-4-4-12, any
 * version and variant (the nil and max UUIDs included), either case. This is
 * exactly what the OpenAPI document declares for uuid ids (`UUID_PATTERN`),
 * and every such value fits PostgreSQL's `uuid`.
 */
export const UUID_PATTERN = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/**
 * Refuses a path parameter that is not a UUID with 400 `validation_failed`.
 * Nest's ParseUUIDPipe accepts only versions 1–8 with the variant digit 8–b,
 * stricter than `format: uuid` says, so a client holding a valid UUID of
 * another variant got a 400 the document did not announce.
 */
@Injectable()
export class UuidPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, metadata: ArgumentMetadata): string {
    if (typeof value === 'string' && UUID_PATTERN.test(value)) return value.toLowerCase();
    throw new AppException(
      'validation_failed',
      `${metadata.data ?? 'id'} must be a UUID (8-4-4-4-12 hex digits)`,
    );
  }
}
