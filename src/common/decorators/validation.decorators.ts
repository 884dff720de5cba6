import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsObject, ValidateNested } from 'class-validator';

/**
 * A property holding a nested DTO (or, with `each`, an array of them). Use it
 * instead of a bare `@ValidateNested`: that one lets an array (or an array of
 * arrays) through where an object is expected (`{"vectors": [[]]}` passes
 * with zero errors), so the service would meet `undefined` fields. A test
 * (test/bad-input.e2e-spec.ts) fails for any `@ValidateNested` without `@IsObject`.
 */
export const NestedDto = (type: () => new () => object, options: { each?: boolean } = {}) =>
  applyDecorators(IsObject({ each: options.each }), ValidateNested({ each: options.each }), Type(type));
